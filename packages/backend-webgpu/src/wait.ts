/**
 * Waiting for the GPU without spinning. While a mapAsync or onSubmittedWorkDone promise is
 * pending, Dawn's Node bindings poll for its completion from a setImmediate loop, which keeps the
 * main thread busy for the whole wait. On a software adapter (lavapipe) that core is the one the
 * GPU work should be running on: measured on a 2-core machine, a 1.5 s batch took 2.1 s with the
 * polling loop. `idleWait` sleeps in 1 ms slices instead, letting the bindings process events once
 * between slices, so completion is noticed within about a millisecond.
 */

/** Milliseconds the main thread sleeps between two looks at the GPU's events. */
const SLICE_MS = 1;

/** Milliseconds of plain event-loop turns before sleeping (short waits finish without a sleep). */
const SPIN_MS = 0.25;

interface NodeGlobals {
  process?: { versions?: { node?: string } };
  setImmediate?: (fn: () => void) => unknown;
}

let cell: Int32Array | null = null;

/** True where `idleWait` can sleep: Node, which allows Atomics.wait on its main thread. */
export function canIdleWait(): boolean {
  const g = globalThis as NodeGlobals;
  return typeof g.process?.versions?.node === "string" && typeof g.setImmediate === "function" && typeof SharedArrayBuffer === "function";
}

/** Resolves (or rejects) like `p`, sleeping between event-loop turns until it settles. */
export async function idleWait<T>(p: Promise<T>): Promise<T> {
  let settled = false;
  const done = () => {
    settled = true;
  };
  p.then(done, done);
  const immediate = (globalThis as NodeGlobals).setImmediate!;
  cell ??= new Int32Array(new SharedArrayBuffer(4));
  const start = performance.now();
  await new Promise<void>((resolve) => immediate(resolve));
  while (!settled) {
    if (performance.now() - start > SPIN_MS) Atomics.wait(cell, 0, 0, SLICE_MS);
    await new Promise<void>((resolve) => immediate(resolve));
  }
  return p;
}
