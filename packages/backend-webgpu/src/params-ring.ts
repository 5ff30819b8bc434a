/**
 * Kernel parameters (sizes, strides, offsets) without a buffer per dispatch. Every dispatch of a
 * batch gets its own aligned slot in one uniform buffer; the slots are staged on the host and
 * uploaded with a single `writeBuffer` just before the batch is submitted. Reusing the slots for
 * the next batch is safe because queue operations run in order: the next upload lands after the
 * previous submit has consumed the old values.
 */
import { BufferUsage } from "./gpu-constants.js";

/** One batch's worth of uniform parameter slots. */
export class ParamsRing {
  /** The uniform buffer the slots live in. */
  readonly buffer: GPUBuffer;
  private readonly host: Uint8Array<ArrayBuffer>;
  private used = 0;

  constructor(
    device: GPUDevice,
    readonly capacity: number,
    private readonly alignment: number,
  ) {
    this.buffer = device.createBuffer({
      label: "tessera params ring",
      size: capacity,
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    });
    this.host = new Uint8Array(capacity);
  }

  /** Bytes a binding of `words` parameters takes: WGSL uniform arrays are arrays of vec4<u32>. */
  static bindingBytes(words: number): number {
    return Math.max(1, Math.ceil(words / 4)) * 16;
  }

  /** Stages `words` in a fresh slot and returns its byte offset, or -1 when the batch is full. */
  push(words: Uint32Array): number {
    const offset = Math.ceil(this.used / this.alignment) * this.alignment;
    const bytes = ParamsRing.bindingBytes(words.length);
    if (offset + bytes > this.capacity) return -1;
    this.host.set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength), offset);
    this.used = offset + bytes;
    return offset;
  }

  /** Uploads the staged slots and starts a new batch; true when there were any. Call right before submitting. */
  upload(queue: GPUQueue): boolean {
    const used = this.used;
    if (used > 0) queue.writeBuffer(this.buffer, 0, this.host, 0, Math.ceil(used / 4) * 4);
    this.used = 0;
    return used > 0;
  }

  /** Releases the GPU buffer. */
  destroy(): void {
    this.buffer.destroy();
  }
}
