/**
 * Byte-offset allocator over one WebAssembly.Memory.
 *
 * Tensors live inside the kernels' memory so kernels read them in place (copying between JS
 * arrays and wasm memory would cost most on the cheap layers; docs/cpu-kernels.md). Blocks are
 * 16-byte aligned (one v128) and rounded up to a size class; a freed block goes on its class's
 * free list and is reused by the next allocation of that class. Memory is grown, never shrunk
 * (wasm cannot shrink), so the high-water mark of the program is what it keeps.
 */

import { type WasmMemory, wasmApi } from "./wasm-api.js";

/** Bytes in one WebAssembly page. */
export const WASM_PAGE_BYTES = 65536;

/** Every block starts on a multiple of this (the size of a v128). */
export const ARENA_ALIGN = 16;

/** Offsets below this are never handed out, so 0 can mean "no block". */
const HEAP_BASE = 64;

/**
 * The size class of a request: multiples of 16 bytes up to 256, then four classes per
 * power of two (1.25, 1.5, 1.75, 2 × 2^e), so a block wastes less than 25% and the number
 * of free lists stays small.
 */
export function sizeClass(bytes: number): number {
  const b = Math.max(ARENA_ALIGN, Math.ceil(bytes));
  if (b <= 256) return Math.ceil(b / ARENA_ALIGN) * ARENA_ALIGN;
  const e = 31 - Math.clz32(b - 1); // 2^e < b <= 2^(e+1)
  const quarter = 2 ** (e - 2);
  return Math.ceil(b / quarter) * quarter;
}

/** Options of {@link createSharedMemory}. */
export interface SharedMemoryOptions {
  /** Initial size in pages (default 16 = 1 MiB). */
  initialPages?: number;
  /** Maximum size in pages (default 65536 = 4 GiB, the most a 32-bit memory can address). */
  maximumPages?: number;
}

/**
 * A shared memory with a large maximum: shared, so worker threads can run kernels on it, and
 * with its address range reserved up front, so growing it never moves it and views made
 * before a grow stay valid.
 */
export function createSharedMemory(options: SharedMemoryOptions = {}): WasmMemory {
  const initial = options.initialPages ?? 16;
  const maximum = options.maximumPages ?? 65536;
  return new wasmApi.Memory({ initial, maximum, shared: true });
}

/** Allocates 16-byte-aligned blocks of a WebAssembly.Memory and hands out their byte offsets. */
export class Arena {
  /** First byte never handed out yet. */
  private top = HEAP_BASE;
  /** Free blocks by size class. */
  private readonly freeLists = new Map<number, number[]>();
  /** Size class of every live block, so `free` needs only the offset. */
  private readonly live = new Map<number, number>();
  private liveBytes = 0;
  private freeBlocks = 0;

  constructor(readonly memory: WasmMemory) {}

  /** A 16-byte-aligned block of at least `bytes` bytes; its contents are unspecified. */
  alloc(bytes: number): number {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) {
      throw new RangeError(`Arena.alloc: expected a non-negative byte count, got ${bytes}`);
    }
    const size = sizeClass(bytes);
    const reused = this.freeLists.get(size)?.pop();
    if (reused !== undefined) this.freeBlocks--;
    const ptr = reused ?? this.bump(size);
    this.live.set(ptr, size);
    this.liveBytes += size;
    return ptr;
  }

  /** Returns a block from {@link alloc} to its free list. */
  free(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) {
      throw new Error(`Arena.free: ${ptr} is not a live block (double free, or not from alloc)`);
    }
    this.live.delete(ptr);
    this.liveBytes -= size;
    let list = this.freeLists.get(size);
    if (!list) this.freeLists.set(size, (list = []));
    list.push(ptr);
    this.freeBlocks++;
  }

  /** Bytes held by live blocks (rounded up to their size classes): what leak tests watch. */
  get bytesInUse(): number {
    return this.liveBytes;
  }

  /** Bytes in freed blocks kept on the free lists for reuse. */
  get pooledBytes(): number {
    return this.top - HEAP_BASE - this.liveBytes;
  }

  /** Number of freed blocks kept for reuse. */
  get pooledBlocks(): number {
    return this.freeBlocks;
  }

  /** Number of live blocks. */
  get liveBlocks(): number {
    return this.live.size;
  }

  /** Current size of the memory in bytes. */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }

  /** A Float32Array over `length` floats at byte offset `ptr` (valid across later grows). */
  f32view(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }

  /** An Int32Array over `length` ints at byte offset `ptr`. */
  i32view(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }

  /** A Uint8Array over `length` bytes at byte offset `ptr`. */
  u8view(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  /** Takes a fresh block from the top, growing the memory when it is too small. */
  private bump(size: number): number {
    const ptr = this.top;
    const end = ptr + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      // grow by at least 1/8 of the current size, so a run of small allocations grows rarely
      const need = Math.ceil((end - have) / WASM_PAGE_BYTES);
      const pages = Math.max(need, Math.ceil(have / WASM_PAGE_BYTES / 8));
      try {
        this.memory.grow(pages);
      } catch {
        try {
          this.memory.grow(need);
        } catch (e) {
          throw new RangeError(`Arena.alloc: cannot grow the memory from ${have} to ${end} bytes (${String(e)})`);
        }
      }
    }
    this.top = end;
    return ptr;
  }
}
