import type { Backend, BackendBuffer } from "../backend/contract.js";
import { type TypedArray, bytesPerElement } from "../dtype.js";

/** Live tensors and bytes of one backend, as the core counts them. */
interface Counters {
  tensors: number;
  buffers: number;
  bytes: number;
}

const counters = new Map<Backend, Counters>();

/** The storage wrapping each live buffer (a capture holds on to the tensors' buffers it reads). */
const storages = new WeakMap<BackendBuffer, Storage>();

/** @internal The storage of a live tensor buffer, if any. */
export function storageOf(buffer: BackendBuffer): Storage | undefined {
  return storages.get(buffer);
}

function countersOf(backend: Backend): Counters {
  let c = counters.get(backend);
  if (!c) counters.set(backend, (c = { tensors: 0, buffers: 0, bytes: 0 }));
  return c;
}

/**
 * A backend buffer shared by a tensor and all its views. Reference-counted: the buffer goes back
 * to the backend when the last tensor using it is disposed.
 */
export class Storage {
  private refs = 1;
  readonly bytes: number;
  /**
   * The values written from the host, kept for int32 data on backends that cannot read
   * synchronously, so that `gather` can check indices without waiting for the device.
   * Buffers are never written again after creation, so the copy stays true.
   */
  hostValues: TypedArray | undefined;

  constructor(
    readonly backend: Backend,
    readonly buffer: BackendBuffer,
  ) {
    this.bytes = buffer.size * bytesPerElement(buffer.dtype);
    storages.set(buffer, this);
    const c = countersOf(backend);
    c.buffers++;
    c.bytes += this.bytes;
  }

  /** Handles on this buffer: tensors and views, plus whoever else retained it. */
  get refCount(): number {
    return this.refs;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs > 0) return;
    const c = countersOf(this.backend);
    c.buffers--;
    c.bytes -= this.bytes;
    storages.delete(this.buffer);
    this.backend.free(this.buffer);
  }
}

/** Counts a tensor handle as live (called by the Tensor constructor and dispose). */
export function countTensor(backend: Backend, delta: 1 | -1): void {
  countersOf(backend).tensors += delta;
}

/** What `memory()` reports for one backend. */
export interface MemoryInfo {
  /** Tensor handles not yet disposed (views count once each). */
  tensors: number;
  /** Distinct buffers those tensors hold. */
  buffers: number;
  /** Bytes in those buffers. */
  bytes: number;
  /** The backend's own view (pooled buffers, device memory), when it reports one. */
  backend?: ReturnType<NonNullable<Backend["memory"]>>;
}

/** Live tensors and bytes of a backend (the active one by default). */
export function memoryOf(backend: Backend): MemoryInfo {
  const c = countersOf(backend);
  const info: MemoryInfo = { tensors: c.tensors, buffers: c.buffers, bytes: c.bytes };
  const own = backend.memory?.();
  if (own) info.backend = own;
  return info;
}
