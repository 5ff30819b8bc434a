import type { DType, TypedArray } from "@tessera/tensor";
import { CpuBuffer } from "../buffer.js";
import type { Storage } from "./storage.js";

function allocArray(dtype: DType, size: number): TypedArray {
  return dtype === "float32" ? new Float32Array(size) : dtype === "int32" ? new Int32Array(size) : new Uint8Array(size);
}

/** Plain typed arrays on the JavaScript heap, reclaimed by the garbage collector. */
export function typedArrayStorage(): Storage {
  return {
    alloc: (size, dtype) => new CpuBuffer(allocArray(dtype, size), dtype),
    free: () => {},
    pooled: () => ({ bytes: 0, blocks: 0 }),
  };
}
