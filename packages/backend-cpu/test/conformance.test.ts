import { describeGradientConformance } from "@tessera/autograd/testing";
import { describeConformance } from "@tessera/tensor/testing";
import { type CpuBackendOptions, createCpuBackend } from "../src/backend.js";

/** A backend of these options, with every thread it asked for running. */
async function started(options: CpuBackendOptions) {
  const backend = createCpuBackend(options);
  if (backend.engine !== (options.kernels ?? "wasm"))
    throw new Error(`expected the ${options.kernels ?? "wasm"} kernels, got ${backend.engine}: ${backend.fallbackReason}`);
  await backend.ready();
  if (backend.threads !== (options.threads ?? backend.threads)) throw new Error(`expected ${options.threads} threads, got ${backend.threads}`);
  return backend;
}

// The default backend (WebAssembly kernels on one thread, then on two with every GEMM split
// however small), the plain TypeScript kernels, and the primitives alone, which makes the core
// compute matmul, convolution, pooling and gather from primitives (the fallbacks).
const VARIANTS: Array<{ name: string; options: CpuBackendOptions; memorySteps: number }> = [
  { name: "cpu", options: { threads: 1 }, memorySteps: 1000 },
  { name: "cpu-2-threads", options: { threads: 2, parallelMinFlops: 0 }, memorySteps: 200 },
  { name: "cpu-js", options: { kernels: "js" }, memorySteps: 200 },
  { name: "cpu-primitives-only", options: { primitivesOnly: true }, memorySteps: 200 },
];

for (const { name, options, memorySteps } of VARIANTS) {
  describeConformance({ name, create: () => started(options) });
  describeGradientConformance({ name, create: () => started(options), memorySteps });
}
