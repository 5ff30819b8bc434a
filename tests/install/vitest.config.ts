import { defineConfig } from "vitest/config";

// These tests use the built packages (dist/), as users do: turbo builds them first.
export default defineConfig({
  test: { include: ["test/**/*.test.ts"], testTimeout: 600_000, hookTimeout: 600_000 },
});
