import type { BackendBuffer, DType, TypedArray } from "@tessera/tensor";

/**
 * A CPU buffer: a typed array the host reads and writes directly. With the WebAssembly
 * kernels the array is a view into the kernels' shared memory and `ptr` is its byte offset
 * there (0 for a plain typed array), so TypeScript kernels and wasm kernels see one storage.
 */
export class CpuBuffer implements BackendBuffer {
  constructor(
    readonly data: TypedArray,
    readonly dtype: DType,
    readonly ptr = 0,
  ) {}

  get size(): number {
    return this.data.length;
  }
}

/** The typed array behind a buffer handed out by this backend. */
export function dataOf(b: BackendBuffer): TypedArray {
  return (b as CpuBuffer).data;
}

/** The byte offset in the shared memory of a buffer from the arena storage. */
export function ptrOf(b: BackendBuffer): number {
  return (b as CpuBuffer).ptr;
}
