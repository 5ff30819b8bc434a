import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The directory of this package (holding its package.json), from src/ and from dist/ alike. */
export function packageRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: string };
      if (pkg.name === "lenet-cli") return dir;
    } catch {
      // not here: look one level up
    }
    dir = dirname(dir);
  }
  return resolve(here, "..");
}

/** The RGB picture `demo conv` uses when given none (a synthetic 128x128 pattern). */
export function demoImagePath(): string {
  return join(packageRoot(), "assets", "rgb-pattern.png");
}
