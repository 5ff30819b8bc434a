import { describeConformance } from "@tessera/tensor/testing";
import { createCpuBackend } from "../src/backend.js";

// The CPU backend with its heavy kernels, and the same primitives with none, which makes the core
// compute matmul, convolution, pooling and gather from primitives (the fallbacks).
describeConformance({ name: "cpu", create: () => createCpuBackend() });
describeConformance({ name: "cpu-primitives-only", create: () => createCpuBackend({ primitivesOnly: true }) });

import { describeGradientConformance } from "@tessera/autograd/testing";

describeGradientConformance({ name: "cpu", create: () => createCpuBackend() });
describeGradientConformance({ name: "cpu-primitives-only", create: () => createCpuBackend({ primitivesOnly: true }), memorySteps: 200 });
