/**
 * The one place this package imports the backend contract from, so the rest of the code does not
 * care where `@tessera/tensor` keeps it.
 */
export type {
  Backend,
  BackendBuffer,
  BackendMemory,
  BackendProgram,
  BinaryOp,
  CompiledProgram,
  Conv2dParams,
  DType,
  HeavyKernels,
  Pool2dParams,
  ProgramCall,
  ReduceOp,
  Shape4,
  StridedView,
  TypedArray,
  UnaryOp,
} from "@tessera/tensor";
export { KERNEL_OUTPUT_ARG } from "@tessera/tensor";
