/**
 * @tessera/autograd/testing: the gradient half of the conformance suite (numeric gradient checks
 * of every differentiable op, error cases, flat memory over training). Needs vitest.
 *
 * @module @tessera/autograd/testing
 */
export { describeGradientConformance, type GradientConformanceOptions } from "./gradients.js";
export { checkGradientCase, differentiableInputs, GRADIENT_TOL } from "./checks.js";
