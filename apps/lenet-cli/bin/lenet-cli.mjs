#!/usr/bin/env node
// The `lenet-cli` command (package.json "bin"): runs the built CLI, dist/main.js, or says how to
// build it. It is a committed file so pnpm can link the command on a fresh clone, before any build.
import { existsSync } from "node:fs";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("lenet-cli: the CLI is not built yet: run `pnpm build` (or `pnpm --filter lenet-cli... build`) at the repository root first");
  process.exit(1);
}
await import(main.href);
