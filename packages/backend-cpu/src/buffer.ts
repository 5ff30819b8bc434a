import type { BackendBuffer, DType, TypedArray } from "@tessera/tensor";

/** A CPU buffer: a typed array the host reads and writes directly. */
export class CpuBuffer implements BackendBuffer {
  constructor(
    readonly data: TypedArray,
    readonly dtype: DType,
  ) {}

  get size(): number {
    return this.data.length;
  }
}

/** The typed array behind a buffer handed out by this backend. */
export function dataOf(b: BackendBuffer): TypedArray {
  return (b as CpuBuffer).data;
}
