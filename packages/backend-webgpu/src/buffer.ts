/**
 * The backend's buffer: the contract's `{ size, dtype }` plus the GPU buffer behind it. Every
 * dtype is stored as 32-bit words (bool as u32 0/1), because WGSL storage arrays have no 8-bit
 * element type; `write` and `read` convert bool bytes to and from words.
 */
import type { BackendBuffer, DType } from "./contract.js";
import { WebGPUBackendError } from "./errors.js";

/** A tensor buffer living on the GPU. */
export class WebGPUBuffer implements BackendBuffer {
  /** False once `free` returned the GPU buffer to the pool. */
  live = true;
  /**
   * The one element of a one-element buffer written or filled from the host and not uploaded
   * yet, as its 32-bit word. Scalars (a learning rate, the 1 of `1 - y²`) are mostly consumed
   * broadcast by elementwise kernels, which take the word as a kernel parameter: then the buffer
   * is never written at all. Anything else that reads it uploads it first (see backend.ts).
   */
  hostWord: number | undefined = undefined;

  constructor(
    readonly size: number,
    readonly dtype: DType,
    /**
     * The pooled GPU buffer; its capacity may exceed `bindBytes` (size classes). A write may swap
     * it for an idle one when recorded work still reads the old contents (see `write`).
     */
    public gpu: GPUBuffer,
  ) {}

  /** Bytes a kernel binds: one word per element, at least one word (WebGPU has no empty bindings). */
  get bindBytes(): number {
    return Math.max(1, this.size) * 4;
  }
}

/** Narrows a contract buffer to this backend's, with a clear error for foreign or freed buffers. */
export function gpuBuffer(b: BackendBuffer, op: string): WebGPUBuffer {
  if (!(b instanceof WebGPUBuffer)) {
    throw new WebGPUBackendError(`${op}: got a buffer that does not belong to the webgpu backend`);
  }
  if (!b.live) throw new WebGPUBackendError(`${op}: the buffer was already freed`);
  return b;
}

/** A zeroed host array of the typed-array kind the contract uses for `dtype`. */
export function hostArray(dtype: DType, size: number): Float32Array | Int32Array | Uint8Array {
  if (dtype === "float32") return new Float32Array(size);
  if (dtype === "int32") return new Int32Array(size);
  return new Uint8Array(size);
}
