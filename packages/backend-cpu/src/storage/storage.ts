import type { DType } from "@tessera/tensor";
import type { CpuBuffer } from "../buffer.js";

/** Where the CPU backend keeps tensor data. */
export interface Storage {
  /** A buffer of `size` elements (contents unspecified). */
  alloc(size: number, dtype: DType): CpuBuffer;
  /** Gives a buffer back; called once per buffer. */
  free(buffer: CpuBuffer): void;
  /** Freed memory kept for reuse, not in use. */
  pooled(): { bytes: number; blocks: number };
}
