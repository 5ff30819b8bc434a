import { bytesPerElement, type DType, type TypedArray } from "@tessera/tensor";
import { CpuBuffer } from "../buffer.js";
import type { Arena } from "../wasm/index.js";
import type { Storage } from "./storage.js";

/**
 * Blocks of the WebAssembly kernels' shared memory, so the kernels read and write tensors in
 * place (copying to and from JS arrays would cost most on the cheap layers;
 * docs/cpu-kernels.md). Each buffer's typed array is a view of its block; views made before the
 * memory grows stay valid, because a shared memory never moves. Freed blocks go back to the
 * arena's free lists.
 */
export function arenaStorage(arena: Arena): Storage {
  const view = (dtype: DType, ptr: number, size: number): TypedArray =>
    dtype === "float32" ? arena.f32view(ptr, size) : dtype === "int32" ? arena.i32view(ptr, size) : arena.u8view(ptr, size);
  return {
    alloc(size, dtype) {
      const ptr = arena.alloc(size * bytesPerElement(dtype));
      return new CpuBuffer(view(dtype, ptr, size), dtype, ptr);
    },
    free(buffer) {
      arena.free(buffer.ptr);
    },
    pooled: () => ({ bytes: arena.pooledBytes, blocks: arena.pooledBlocks }),
  };
}
