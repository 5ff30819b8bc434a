/**
 * The conformance checks of one op case, without a test runner: the vitest suites
 * (`describeConformance`) and browser harnesses run the same code. Each check throws an Error
 * saying what differs.
 */
import type { Backend } from "../backend/contract.js";
import { memory } from "../memory/report.js";
import { RandomState } from "../random/random-state.js";
import type { OpCase } from "./cases.js";
import { drawValues, makeInput } from "./inputs.js";
import { assertClose, type RefArray } from "./reference.js";

/** The seed every suite draws its inputs from; set TESSERA_CONFORMANCE_SEED to explore others. */
export function conformanceSeed(explicit?: number): number {
  const env = typeof process !== "undefined" ? process.env.TESSERA_CONFORMANCE_SEED : undefined;
  return explicit ?? (env ? Number(env) : 1234);
}

/** A case's gap reason, if the backend lists it (by case name or by op). */
export function gapOf(c: OpCase, gaps: Readonly<Record<string, string>> | undefined): string | undefined {
  return gaps?.[c.name] ?? gaps?.[c.op];
}

/** Draws the inputs of case `index` (deterministic per seed and case). */
export function caseInputs(c: OpCase, index: number, seed: number): RefArray[] {
  const rng = new RandomState((seed * 7919 + index * 104729) >>> 0);
  return c.inputs.map((spec) => drawValues(spec, rng));
}

/**
 * Runs case `index` of the catalogue on the active backend (`backend`) and checks its shape,
 * dtype and values against the float64 reference, and that it leaves no tensor behind.
 */
export async function checkForwardCase(backend: Backend, c: OpCase, index: number, seed: number, label: string): Promise<void> {
  const before = memory(backend).tensors;
  const refs = caseInputs(c, index, seed);
  const inputs = refs.map((r, i) => makeInput(r, c.inputs[i]!));
  const out = c.run(...inputs);
  const expected = c.ref(...refs);
  if (out.shape.join(",") !== expected.shape.join(",")) {
    throw new Error(`${c.name} on ${label}: shape [${out.shape.join(",")}], expected [${expected.shape.join(",")}]`);
  }
  if (out.dtype !== c.dtype) throw new Error(`${c.name} on ${label}: dtype ${out.dtype}, expected ${c.dtype}`);
  const actual = await out.data();
  assertClose(actual, expected, c.tol ?? { atol: 1e-6, rtol: 2e-6 }, `${c.name} on ${label}`);
  out.dispose();
  for (const t of inputs) t.dispose();
  const after = memory(backend).tensors;
  if (after !== before) throw new Error(`${c.name} on ${label}: ${after - before} tensors left behind`);
}
