/**
 * @tessera/tensor/testing/portable: the op catalogue, the float64 reference and the per-case
 * checks, with no test runner, so a browser page (or any harness) runs the conformance cases
 * exactly as the vitest suites do.
 *
 * @module @tessera/tensor/testing/portable
 */
export { checkForwardCase, conformanceSeed, caseInputs, gapOf } from "./checks.js";
export { conformanceCases, type OpCase, type Tolerance, ACCUMULATE_TOL, ELEMENTWISE_TOL, TRANSCENDENTAL_TOL } from "./cases.js";
export { drawValues, makeInput, dtypeOfKind, type InputSpec, type Layout, type ValueKind } from "./inputs.js";
/** The float64 reference implementation of every op, and numeric-gradient and closeness helpers. */
export * as reference from "./reference.js";
export type { RefArray } from "./reference.js";
