/**
 * @tessera/autograd/testing/portable: the gradient check of one conformance case, with no test
 * runner, so a browser page (or any harness) runs it exactly as the vitest suites do.
 *
 * @module @tessera/autograd/testing/portable
 */
export { checkGradientCase, differentiableInputs, GRADIENT_TOL } from "./checks.js";
