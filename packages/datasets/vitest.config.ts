import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources of every workspace package (no build needed).
// `@tessera/backend-cpu` is not a dependency of this package; the tensor tests import it to
// register the CPU backend, so it is aliased to its sources here.
const backendCpu = fileURLToPath(new URL("../backend-cpu/src/index.ts", import.meta.url));

export default defineConfig({
  resolve: { conditions: ["@tessera/source"], alias: { "@tessera/backend-cpu": backendCpu } },
  ssr: { resolve: { conditions: ["@tessera/source"] } },
  test: { include: ["test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 120_000 },
});
