import { TesseraError } from "../errors.js";

/** What a scope needs from a tensor: its identity and a way to free it. */
export interface Scoped {
  dispose(): void;
  readonly isDisposed: boolean;
}

const scopes: Array<Set<Scoped>> = [];
const kept = new WeakSet<Scoped>();

/** Called for every new tensor: the innermost `tidy` scope will free it unless returned or kept. */
export function trackInScope(t: Scoped): void {
  if (scopes.length > 0 && !kept.has(t)) scopes[scopes.length - 1]!.add(t);
}

/** Marks a tensor so that no enclosing `tidy` frees it; returns it. */
export function keep<T extends Scoped>(t: T): T {
  kept.add(t);
  for (const s of scopes) s.delete(t);
  return t;
}

function collect(value: unknown, into: Set<Scoped>, seen: Set<unknown>): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (isScoped(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, into, seen);
  } else if (value instanceof Map) {
    for (const v of value.values()) collect(v, into, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collect(v, into, seen);
  }
}

function isScoped(v: object): v is Scoped {
  return typeof (v as Scoped).dispose === "function" && "isDisposed" in v;
}

/**
 * Runs `fn` and then disposes every tensor created inside it, except the tensors it returns
 * (found in arrays, plain objects and Maps) and those passed to `keep`. Returned tensors belong
 * to the enclosing scope. `fn` must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Scoped>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new TesseraError("tidy", "the function returned a Promise; tidy only tracks synchronous work (await outside tidy, or dispose tensors yourself)");
  }
  const survivors = new Set<Scoped>();
  collect(result, survivors, new Set());
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Disposes every tensor found in a value (arrays, plain objects, Maps). */
export function dispose(value: unknown): void {
  const found = new Set<Scoped>();
  collect(value, found, new Set());
  for (const t of found) t.dispose();
}
