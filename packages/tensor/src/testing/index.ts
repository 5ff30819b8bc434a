/**
 * @tessera/tensor/testing: the conformance suite every backend runs, the op catalogue it is built
 * from, and the float64 reference implementation it checks against. Needs vitest.
 *
 * @module @tessera/tensor/testing
 */
export { describeConformance, conformanceSeed, caseInputs, gapOf, withoutReadSync, type ConformanceOptions } from "./conformance.js";
export { conformanceCases, type OpCase, type Tolerance, ACCUMULATE_TOL, ELEMENTWISE_TOL, TRANSCENDENTAL_TOL } from "./cases.js";
export { drawValues, makeInput, dtypeOfKind, type InputSpec, type Layout, type ValueKind } from "./inputs.js";
/** The float64 reference implementation of every op, and numeric-gradient and closeness helpers. */
export * as reference from "./reference.js";
export type { RefArray } from "./reference.js";
