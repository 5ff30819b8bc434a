/**
 * A test page made from one TypeScript entry: bundled for the browser with esbuild from the
 * workspace sources (the browser entries of the packages), beside an index.html that loads it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

/** Bundles `entry` into `dir` as harness.js with an index.html; returns `dir`. */
export async function bundlePage(entry: string, dir: string): Promise<string> {
  await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["@tessera/source"],
    outfile: join(dir, "harness.js"),
    logLevel: "silent",
  });
  writeFileSync(join(dir, "index.html"), `<!doctype html><link rel="icon" href="data:,"><script type="module" src="./harness.js"></script>`);
  return dir;
}
