/**
 * @tessera/tensor: n-d tensors, the op surface, memory management and the backend contract.
 * Import a backend package (e.g. `@tessera/backend-cpu`) once to run ops.
 *
 * @module @tessera/tensor
 */
export { Tensor, shareTensor } from "./tensor.js";
export type { DType, TypedArray } from "./dtype.js";
export { bytesPerElement, promoteTypes } from "./dtype.js";
export { TesseraError } from "./errors.js";
export { broadcastShapes, sizeOf, contiguousStrides } from "./shape.js";
export type {
  Backend,
  BackendBuffer,
  BackendFactory,
  BackendMemory,
  BackendProgram,
  BinaryOp,
  CompiledProgram,
  Conv2dParams,
  HeavyKernelName,
  HeavyKernels,
  Pool2dParams,
  ProgramCall,
  ProgramCallOf,
  ReduceOp,
  Shape4,
  StridedView,
  UnaryOp,
} from "./backend/contract.js";
export { COMPARISON_OPS, KERNEL_OUTPUT_ARG } from "./backend/contract.js";
export { capture, type CaptureOptions, type CaptureResult, type CaptureStats, type Captured } from "./capture/capture.js";
export { runProgramCall } from "./capture/runner.js";
export { registerBackend, removeBackend, setBackend, getBackend, getBackendName, findBackend, listBackends } from "./backend/registry.js";
export { tidy, keep, dispose } from "./memory/scope.js";
export type { MemoryInfo } from "./memory/storage.js";
export { memory } from "./memory/report.js";
export { RandomState, type RandomStateSnapshot } from "./random/random-state.js";
export { autogradHooks, recordOp, type AutogradHooks, type BackwardOptions, type OpRecord } from "./ops/record.js";
export {
  // creation
  tensor,
  zeros,
  ones,
  full,
  zerosLike,
  onesLike,
  fullLike,
  arange,
  eye,
  rand,
  randn,
  randint,
  randomUniform,
  randomNormal,
  seed,
  getDefaultGenerator,
  // elementwise
  neg,
  abs,
  sign,
  exp,
  log,
  sqrt,
  square,
  tanh,
  sigmoid,
  relu,
  floor,
  ceil,
  sin,
  cos,
  logicalNot,
  add,
  sub,
  mul,
  div,
  pow,
  maximum,
  minimum,
  equal,
  notEqual,
  less,
  lessEqual,
  greater,
  greaterEqual,
  logicalAnd,
  logicalOr,
  where,
  cast,
  clone,
  contiguous,
  // views and shaping
  reshape,
  permute,
  transpose,
  slice,
  expand,
  flatten,
  squeeze,
  unsqueeze,
  pad,
  concat,
  stack,
  // reductions
  sum,
  prod,
  max,
  min,
  mean,
  argmax,
  argmin,
  // indexing
  gather,
  oneHot,
  hostData,
  // linear algebra, convolution, pooling
  matmul,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  convOutSize,
  poolOutSize,
  // softmax
  softmax,
  logSoftmax,
} from "./ops/index.js";
export type { NestedArray, TensorLike, TensorOptions, CreationOptions, RandomOptions, SliceSpec, Conv2dOptions, Pool2dOptions, Pair } from "./ops/index.js";
