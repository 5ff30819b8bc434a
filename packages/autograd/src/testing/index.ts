/**
 * @tessera/autograd/testing: the gradient half of the conformance suite (numeric gradient checks
 * of every differentiable op, error cases, flat memory over training). Needs vitest.
 *
 * @module @tessera/autograd/testing
 */
export { describeGradientConformance, differentiableInputs, GRADIENT_TOL, type GradientConformanceOptions } from "./gradients.js";
