/**
 * Reuse of GPU buffers across ops and training steps. Creating a buffer is far slower than reusing
 * one, and a training step allocates the same sizes every iteration, so freed buffers go back to a
 * free list keyed by size class and the next allocation of that class takes them.
 */

const MIN_CLASS = 256;

/**
 * Rounds a byte count up to its size class: four classes per power of two (at most 25% waste),
 * so tensors of slightly different sizes still share buffers.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  const octave = 2 ** Math.floor(Math.log2(bytes));
  const step = octave / 4;
  return Math.ceil(bytes / step) * step;
}

/** Free lists of GPU buffers of one usage, keyed by size class. */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private count = 0;
  private bytes = 0;

  /**
   * @param create makes a new buffer of exactly `bytes` bytes (the backend wraps it in error scopes).
   * @param maxBufferSize the device's limit: classes never round past it.
   */
  constructor(
    private readonly create: (bytes: number) => GPUBuffer,
    private readonly maxBufferSize: number,
  ) {}

  /** Buffers waiting in the pool. */
  get pooledBuffers(): number {
    return this.count;
  }

  /** Bytes held by buffers waiting in the pool. */
  get pooledBytes(): number {
    return this.bytes;
  }

  /**
   * A buffer of at least `bytes` bytes: a pooled one of the same class (the most recently freed
   * that `accept` takes, when given), or a new one.
   */
  acquire(bytes: number, accept?: (buffer: GPUBuffer) => boolean): GPUBuffer {
    let cls = sizeClass(bytes);
    if (cls > this.maxBufferSize) cls = Math.ceil(bytes / 4) * 4;
    const list = this.free.get(cls);
    if (list && list.length > 0) {
      let k = list.length - 1;
      if (accept) while (k >= 0 && !accept(list[k]!)) k--;
      if (k >= 0) {
        const reused = list[k]!;
        list.splice(k, 1);
        this.count--;
        this.bytes -= reused.size;
        return reused;
      }
    }
    return this.create(cls);
  }

  /**
   * A pooled buffer of `buffer`'s size class that `accept` takes, put in the pool in `buffer`'s
   * place (same position, so the order in which later allocations get buffers does not change);
   * a new buffer when none is accepted, `buffer` then simply joining the pool.
   */
  exchange(buffer: GPUBuffer, accept: (candidate: GPUBuffer) => boolean): GPUBuffer {
    const list = this.free.get(buffer.size);
    if (list) {
      for (let k = list.length - 1; k >= 0; k--) {
        const candidate = list[k]!;
        if (accept(candidate)) {
          list[k] = buffer;
          return candidate;
        }
      }
    }
    this.release(buffer);
    return this.create(buffer.size);
  }

  /** Returns a buffer for reuse. Safe while queued work still uses it: the queue runs in order. */
  release(buffer: GPUBuffer): void {
    const cls = buffer.size;
    let list = this.free.get(cls);
    if (!list) {
      list = [];
      this.free.set(cls, list);
    }
    list.push(buffer);
    this.count++;
    this.bytes += cls;
  }

  /**
   * Destroys pooled buffers, largest first, until at most `maxBytes` stay pooled. Only call it when
   * no unsubmitted commands reference pooled buffers (destroying one would invalidate the submit).
   */
  trim(maxBytes: number): void {
    if (this.bytes <= maxBytes) return;
    const classes = [...this.free.keys()].sort((a, b) => b - a);
    for (const cls of classes) {
      const list = this.free.get(cls)!;
      while (list.length > 0 && this.bytes > maxBytes) {
        const b = list.pop()!;
        this.count--;
        this.bytes -= b.size;
        b.destroy();
      }
      if (list.length === 0) this.free.delete(cls);
      if (this.bytes <= maxBytes) return;
    }
  }

  /** Destroys every pooled buffer. */
  clear(): void {
    this.trim(0);
  }
}
