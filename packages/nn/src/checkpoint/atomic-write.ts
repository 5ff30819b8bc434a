import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Test seams for {@link writeFileAtomic}; production code never passes these. */
export interface AtomicWriteHooks {
  /** Runs after the temp file is written and fsynced, just before it is renamed over the target. */
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

/** Writes `data` to `path` atomically: readers see either the old file or the complete new one, never a partial write. */
export async function writeFileAtomic(path: string, data: Uint8Array | string, hooks?: AtomicWriteHooks): Promise<void> {
  const dir = dirname(path);
  // Same directory as the target so the rename stays on one file system (rename is atomic only there).
  const tempPath = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let created = false;
  let renamed = false;
  try {
    const fh: FileHandle = await open(tempPath, "wx");
    created = true;
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await hooks?.beforeRename?.(tempPath);
    await rename(tempPath, path);
    renamed = true;
  } catch (err) {
    if (created && !renamed) {
      await rm(tempPath, { force: true }).catch(() => undefined);
    }
    throw err;
  }
  await fsyncDir(dir);
}

/** Makes the rename durable by fsyncing the directory; some platforms (Windows) refuse this, so it is best effort. */
async function fsyncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(dir, "r");
    await fh.sync();
  } catch {
    // Best effort: the data itself is already durable and in place.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
