/**
 * Node built-in modules, reached without a static `import`, so that bundlers targeting the
 * browser never try to pull in `node:worker_threads` or `node:v8`. Elsewhere both helpers
 * answer `undefined` and the callers fall back (standard SIMD, one thread, plain JS).
 */

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return typeof p?.versions?.node === "string" ? p : undefined;
}

/** Whether this is Node (or a runtime that says it is). */
export function isNode(): boolean {
  return nodeProcess() !== undefined;
}

/** A Node built-in, synchronously (`process.getBuiltinModule`, Node >= 20.16), or undefined. */
export function nodeBuiltin<T>(id: string): T | undefined {
  try {
    return nodeProcess()?.getBuiltinModule?.(id) as T | undefined;
  } catch {
    return undefined;
  }
}

/**
 * A Node built-in, asynchronously: `nodeBuiltin` first, else a dynamic import whose specifier
 * is computed so that bundlers leave it alone. Undefined outside Node.
 */
export async function importNodeBuiltin<T>(id: string): Promise<T | undefined> {
  if (!isNode()) return undefined;
  const builtin = nodeBuiltin<T>(id);
  if (builtin) return builtin;
  const specifier = ["node", id.replace(/^node:/, "")].join(":");
  try {
    return (await import(/* @vite-ignore */ specifier)) as T;
  } catch {
    return undefined;
  }
}
