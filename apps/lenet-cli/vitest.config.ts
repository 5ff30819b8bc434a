import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources of every workspace package (no build needed).
export default defineConfig({
  resolve: { conditions: ["@tessera/source"] },
  ssr: { resolve: { conditions: ["@tessera/source"] } },
  // Most tests here train or evaluate LeNet-5; on a 2-core machine shared with other test
  // processes one can take minutes, so the ceilings only catch a hang.
  test: { include: ["test/**/*.test.ts"], testTimeout: 300_000, hookTimeout: 300_000 },
});
