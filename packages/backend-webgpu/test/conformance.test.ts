/** The shared conformance suite, forward and gradients, on this backend (skipped without a WebGPU adapter). */
import { describeGradientConformance } from "@tessera/autograd/testing";
import { describeConformance } from "@tessera/tensor/testing";
import { describe, it } from "vitest";
import { createWebGPUBackend } from "../src/index.js";
import { tryBackend } from "./helpers.js";

const { backend, reason } = await tryBackend();

if (backend) {
  // The probe instance becomes the forward suite's backend; the gradient suite gets its own device.
  describeConformance({ name: "webgpu", create: () => backend, gaps: backend.gaps });
  describeGradientConformance({ name: "webgpu", create: () => createWebGPUBackend(), gaps: backend.gaps });
} else {
  describe.skip(`conformance: webgpu (skipped: no WebGPU adapter: ${reason})`, () => {
    it("runs the shared conformance suite", () => {});
  });
}
