import { defineConfig } from "vitest/config";

// The browser tests drive the built app (dist/, made by `vite build`) in headless Chromium;
// Node-side checks run against the TypeScript sources of the workspace packages.
export default defineConfig({
  resolve: { conditions: ["@tessera/source"] },
  ssr: { resolve: { conditions: ["@tessera/source"] } },
  test: { include: ["test/**/*.test.ts"], testTimeout: 300_000, hookTimeout: 600_000, fileParallelism: false },
});
