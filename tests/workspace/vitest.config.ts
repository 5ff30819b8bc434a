import { defineConfig } from "vitest/config";

// These tests run pnpm, turbo and TypeDoc on scratch copies of the workspace: minutes of work on
// a loaded 2-core machine, so the ceilings only catch a hang. Files run one at a time: each one
// already keeps the cores busy.
export default defineConfig({
  test: { include: ["test/**/*.test.ts"], testTimeout: 900_000, hookTimeout: 900_000, fileParallelism: false },
});
