/**
 * A reusable scratch block in the arena: kernels ask for the bytes a call needs and get the
 * same block back every time it is big enough, so a training loop allocates nothing once
 * its first step has sized every scratch.
 */
import type { Arena } from "./arena.js";

/** Cache-line size: per-thread regions start on their own lines so threads never share one. */
export const CACHE_LINE = 64;

/** `bytes` rounded up to a whole number of cache lines. */
export function cacheLines(bytes: number): number {
  return Math.ceil(bytes / CACHE_LINE) * CACHE_LINE;
}

export class Scratch {
  private ptr = 0;
  private bytes = 0;

  constructor(private readonly arena: Arena) {}

  /**
   * A block of at least `bytes` bytes (contents unspecified). Grows by at least doubling,
   * so a series of growing requests reallocates only a few times.
   */
  get(bytes: number): number {
    if (bytes > this.bytes || this.ptr === 0) {
      if (this.ptr !== 0) this.arena.free(this.ptr);
      this.bytes = Math.max(bytes, this.bytes * 2, CACHE_LINE);
      // one spare cache line, so the block can start on a line boundary
      this.ptr = this.arena.alloc(this.bytes + CACHE_LINE);
    }
    return cacheLines(this.ptr);
  }

  /** Returns the block to the arena. */
  release(): void {
    if (this.ptr !== 0) this.arena.free(this.ptr);
    this.ptr = 0;
    this.bytes = 0;
  }
}
