import { defineConfig } from "vitest/config";

// `pnpm bench`: the quick preset in headless Chromium on the built app (see bench/).
export default defineConfig({ test: { include: ["bench/**/*.bench.ts"], testTimeout: 7_200_000 } });
