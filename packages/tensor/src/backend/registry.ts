import { TesseraError } from "../errors.js";
import type { Backend, BackendFactory } from "./contract.js";

interface Entry {
  name: string;
  factory: BackendFactory;
  priority: number;
  instance?: Backend;
  pending?: Promise<Backend>;
}

const entries = new Map<string, Entry>();
let active: Backend | null = null;

/**
 * Makes a backend available under `name`. The highest-priority backend that initialises is used
 * when the user picks none. Registering a name again replaces the factory (not a live instance).
 */
export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  if (typeof name !== "string" || name.length === 0) {
    throw new TesseraError("registerBackend", `name must be a non-empty string, got ${JSON.stringify(name)}`);
  }
  const old = entries.get(name);
  entries.set(name, { name, factory, priority, ...(old?.instance ? { instance: old.instance } : {}) });
}

/** Forgets a backend; disposes its instance when one was created. */
export async function removeBackend(name: string): Promise<void> {
  const entry = entries.get(name);
  if (!entry) return;
  entries.delete(name);
  if (entry.instance) {
    if (active === entry.instance) active = null;
    await entry.instance.dispose?.();
  }
}

/** Initialises (once) and activates a backend. Async because a GPU backend must request its device. */
export async function setBackend(name: string): Promise<Backend> {
  const entry = entries.get(name);
  if (!entry) {
    throw new TesseraError(
      "setBackend",
      `no backend named '${name}' (registered: ${[...entries.keys()].join(", ") || "none"}; import its package, e.g. @tessera/backend-${name}, to register it)`,
    );
  }
  const backend = await initialise(entry);
  active = backend;
  return backend;
}

async function initialise(entry: Entry): Promise<Backend> {
  if (entry.instance) return entry.instance;
  entry.pending ??= Promise.resolve().then(entry.factory);
  try {
    entry.instance = await entry.pending;
    return entry.instance;
  } finally {
    delete entry.pending;
  }
}

/**
 * The active backend. When none was chosen, initialises the highest-priority registered backend
 * whose factory is synchronous (the CPU backend); asynchronous ones need `await setBackend(name)`.
 */
export function getBackend(): Backend {
  if (active) return active;
  const byPriority = [...entries.values()].sort((a, b) => b.priority - a.priority);
  for (const entry of byPriority) {
    if (entry.instance) return (active = entry.instance);
    let made: Backend | Promise<Backend>;
    try {
      made = entry.factory();
    } catch {
      continue;
    }
    if (made instanceof Promise) {
      made.catch(() => {});
      continue;
    }
    entry.instance = made;
    return (active = made);
  }
  throw new TesseraError(
    "getBackend",
    entries.size === 0
      ? 'no backend is registered: import one, e.g. `import "@tessera/backend-cpu"`'
      : `no backend could start synchronously (registered: ${[...entries.keys()].join(", ")}): call \`await setBackend(name)\` first`,
  );
}

/** Name of the active backend (initialising the default one if needed). */
export function getBackendName(): string {
  return getBackend().name;
}

/** Looks up an initialised backend by name, without changing the active one. */
export function findBackend(name: string): Backend | undefined {
  return entries.get(name)?.instance;
}

/** The registered backends, highest priority first. */
export function listBackends(): Array<{ name: string; priority: number; initialised: boolean; active: boolean }> {
  return [...entries.values()]
    .sort((a, b) => b.priority - a.priority)
    .map((e) => ({ name: e.name, priority: e.priority, initialised: !!e.instance, active: !!e.instance && e.instance === active }));
}
