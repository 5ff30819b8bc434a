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
  // The kernels as a GPU gets them (long reductions split across many workgroups), whatever the adapter.
  if (backend.kernelTuning !== "gpu") {
    const gpuTuned = "webgpu, kernelTuning gpu";
    describeConformance({ name: gpuTuned, create: () => createWebGPUBackend({ kernelTuning: "gpu" }), gaps: backend.gaps });
    describeGradientConformance({ name: gpuTuned, create: () => createWebGPUBackend({ kernelTuning: "gpu" }), gaps: backend.gaps });
  }
} else {
  describe.skip(`conformance: webgpu (skipped: no WebGPU adapter: ${reason})`, () => {
    it("runs the shared conformance suite", () => {});
  });
}
