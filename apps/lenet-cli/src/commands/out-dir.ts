import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { CliError, EXIT } from "../cli/errors.js";
import { shownPath } from "../cli/user-paths.js";
import { RUN_FILES } from "../train/trainer.js";

/** The names in `dir`, or null when there is no such directory. */
async function listing(dir: string, shown: string): Promise<string[] | null> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch {
    return null;
  }
  if (!st.isDirectory()) throw new CliError(`--out ${shown}: not a directory`, EXIT.usage);
  return (await readdir(dir)).sort();
}

/**
 * Makes `dir` ready for a new run: refuses when it already holds files, since the run would
 * overwrite the results there (best.safetensors included). With `force` it removes the files a
 * run writes instead, so none of an earlier run's is left to be mistaken for the new one's
 * (other files stay). `given` is --out as typed.
 */
export async function prepareOutDir(dir: string, given: string, force: boolean): Promise<void> {
  const shown = shownPath(given, dir);
  const names = await listing(dir, shown);
  if (names === null || names.length === 0) return;
  if (force) {
    const ours = Object.values(RUN_FILES).flatMap((f) => (f.endsWith(".safetensors") ? [f, f.replace(/\.safetensors$/, ".optim.safetensors")] : [f]));
    for (const f of ours) await rm(join(dir, f), { force: true });
    return;
  }
  const some = names.slice(0, 4).join(", ") + (names.length > 4 ? `, ... (${names.length} files)` : "");
  throw new CliError(
    `--out ${shown} already holds files (${some}); continue that run with --resume ${given}, choose another --out, or add --force to overwrite them`,
    EXIT.usage,
  );
}

/** `base` if it is free, else the first free `base-2`, `base-3`, ... (two runs started in the same second). */
export async function freeRunDir(base: string): Promise<string> {
  for (let k = 1; ; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    const names = await listing(dir, dir);
    if (names === null || names.length === 0) return dir;
  }
}
