/**
 * @tessera/tensor/testing: the conformance suite every backend runs, the op catalogue it is built
 * from, and the float64 reference implementation it checks against. Needs vitest; the same
 * cases and checks without it are `@tessera/tensor/testing/portable`.
 *
 * @module @tessera/tensor/testing
 */
export { describeConformance, withoutReadSync, type ConformanceOptions } from "./conformance.js";
export * from "./portable.js";
