#!/usr/bin/env node
// The `prepack` script of every workspace package (pnpm and npm run it before `pack` and
// `publish`). A published package is built first when its dist/ is missing or older than its
// sources, so a tarball never ships without its code; a private package (apps, examples,
// tests) is not published and refuses to be packed, saying which packages are.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const dir = process.cwd();
const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));

if (pkg.private) {
  console.error(
    `prepack: ${pkg.name} is private (not published), so it is not packed. The published packages are the six under packages/: ` +
      `pack them with \`pnpm -r --filter "./packages/*" pack\` (or see their sizes with \`pnpm pack-report\`).`,
  );
  process.exit(1);
}

/** The newest modification time of `path` (a file, or every file under a folder), in ms. */
function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((t, name) => Math.max(t, newest(join(path, name))), 0);
}

const built = join(dir, "dist", "index.js");
const sources = Math.max(newest(join(dir, "src")), newest(join(dir, "tsconfig.build.json")), newest(join(dir, "..", "..", "tsconfig.base.json")));
if (existsSync(built) && existsSync(join(dir, "dist", "index.d.ts")) && statSync(built).mtimeMs >= sources) process.exit(0);

console.error(`prepack: building ${pkg.name} (${existsSync(built) ? "dist/ is older than src/" : "no dist/ yet"}): ${pkg.scripts.build}`);
const build = spawnSync(pkg.scripts.build, { cwd: dir, shell: true, stdio: "inherit" });
if (build.status !== 0) {
  console.error(`prepack: building ${pkg.name} failed, so it is not packed. Build the workspace first (\`pnpm build\` at the repository root) and pack again.`);
  process.exit(1);
}
