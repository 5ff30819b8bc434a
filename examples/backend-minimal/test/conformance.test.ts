import { describeGradientConformance } from "@tessera/autograd/testing";
import { describeConformance } from "@tessera/tensor/testing";
import { createMinimalBackend } from "../src/index.js";

// The whole conformance suite, forward and gradients, on a backend with only the primitives.
describeConformance({ name: "minimal", create: createMinimalBackend });
describeGradientConformance({ name: "minimal", create: createMinimalBackend, memorySteps: 100 });
