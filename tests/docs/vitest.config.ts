import { defineConfig } from "vitest/config";

// The examples run against the TypeScript sources of every workspace package (no build needed).
// Each runs in its own working directory (process.chdir), which needs the forks pool.
export default defineConfig({
  resolve: { conditions: ["@tessera/source"] },
  ssr: { resolve: { conditions: ["@tessera/source"] } },
  test: { include: ["test/**/*.test.ts"], pool: "forks", testTimeout: 600_000, hookTimeout: 120_000 },
});
