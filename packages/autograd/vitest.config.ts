import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources of every workspace package (no build needed). The CPU
// backend is a test-only dependency, resolved to its sources too.
export default defineConfig({
  resolve: {
    conditions: ["@tessera/source"],
    alias: { "@tessera/backend-cpu": fileURLToPath(new URL("../backend-cpu/src/index.ts", import.meta.url)) },
  },
  ssr: { resolve: { conditions: ["@tessera/source"] } },
  test: { include: ["test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 120_000 },
});
