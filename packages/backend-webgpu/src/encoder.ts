/**
 * Batched command recording. Ops do not submit: they record dispatches into one command encoder
 * (inside one compute pass while possible), and the batch is submitted when a read needs it, when
 * `sync` is called, or every `maxDispatches` dispatches so the GPU starts while JS keeps recording.
 * Submitting per op would cost a queue round trip per op, which dominates small training steps.
 */
import type { HostCounters } from "./counters.js";
import { type FailureState, WebGPUExecutionError, WebGPUOutOfMemoryError } from "./errors.js";
import { ParamsRing } from "./params-ring.js";
import type { CachedPipeline } from "./pipelines.js";

/** A storage binding: the buffer and how many bytes of it the kernel sees. */
export interface StorageBinding {
  readonly buffer: GPUBuffer;
  readonly size: number;
}

/** Bind groups kept for reuse before the cache is cleared. */
const MAX_BIND_GROUPS = 4096;

/** Records dispatches and copies and submits them in batches. */
export class CommandRecorder {
  /** GPU buffers referenced by recorded, not yet submitted commands. */
  readonly pending = new Set<GPUBuffer>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** The pipeline last set in the open pass. */
  private passPipeline: GPUComputePipeline | null = null;
  private dispatches = 0;
  private afterSubmit: Array<() => void> = [];
  private readonly groups = new Map<string, GPUBindGroup>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;

  constructor(
    private readonly device: GPUDevice,
    private readonly failures: FailureState,
    private readonly ring: ParamsRing,
    private readonly maxDispatches: number,
    private readonly onSubmitted: () => void,
    private readonly counters: HostCounters,
  ) {}

  /** Whether commands are recorded and not yet submitted. */
  get hasPendingWork(): boolean {
    return this.encoder !== null;
  }

  /** Dispatches recorded in the current batch. */
  get pendingDispatches(): number {
    return this.dispatches;
  }

  private ensureEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder({ label: "tessera batch" });
    return this.encoder;
  }

  /** Records one compute dispatch; `params` go to binding 0, `storage` to bindings 1..n. */
  dispatch(p: CachedPipeline, params: Uint32Array, storage: readonly StorageBinding[], groups: readonly [number, number, number]): void {
    if (groups[0] === 0 || groups[1] === 0 || groups[2] === 0) return;
    let offset = this.ring.push(params);
    if (offset < 0) {
      this.flush();
      offset = this.ring.push(params);
      if (offset < 0)
        throw new WebGPUExecutionError("internal", `kernel '${p.label}' has ${params.length} parameter words, more than the parameter ring holds`);
    }
    const group = this.bindGroup(p, ParamsRing.bindingBytes(params.length), storage);
    for (const s of storage) this.pending.add(s.buffer);
    this.record(p, group, offset, groups);
  }

  /**
   * Records a dispatch prepared in advance (a compiled program's): pipeline, bind group and the
   * parameter block's offset are ready; `buffers` are the storage buffers the group binds.
   */
  dispatchPrepared(p: CachedPipeline, group: GPUBindGroup, offset: number, buffers: readonly GPUBuffer[], groups: readonly [number, number, number]): void {
    for (const b of buffers) this.pending.add(b);
    this.record(p, group, offset, groups);
  }

  private record(p: CachedPipeline, group: GPUBindGroup, offset: number, groups: readonly [number, number, number]): void {
    const encoder = this.ensureEncoder();
    if (!this.pass) {
      this.pass = encoder.beginComputePass();
      this.passPipeline = null;
    }
    // Consecutive dispatches of one kernel (a program's parameter updates) set it once.
    if (this.passPipeline !== p.pipeline) {
      this.pass.setPipeline(p.pipeline);
      this.passPipeline = p.pipeline;
    }
    this.pass.setBindGroup(0, group, [offset]);
    this.pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    this.counters.dispatches++;
    if (++this.dispatches >= this.maxDispatches) this.flush();
  }

  /** Creates a bind group: `params` (`paramBytes` of it, at a dynamic offset) then the storage bindings. */
  createBindGroup(layout: GPUBindGroupLayout, params: GPUBuffer, paramBytes: number, storage: readonly StorageBinding[]): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: params, offset: 0, size: paramBytes } }];
    storage.forEach((s, i) => {
      entries.push({ binding: i + 1, resource: { buffer: s.buffer, offset: 0, size: s.size } });
    });
    this.counters.bindGroupsCreated++;
    return this.device.createBindGroup({ layout, entries });
  }

  /** A small number naming a GPU buffer (for cache keys). */
  idOf(b: GPUBuffer): number {
    let id = this.ids.get(b);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(b, id);
    }
    return id;
  }

  /**
   * A bind group for these buffers, reused across dispatches: creating one costs more than the
   * rest of recording a dispatch, and a training loop binds the same pooled buffers every step.
   * Entries for destroyed buffers are never hit again (new buffers get new ids) and go at the next
   * clear.
   */
  private bindGroup(p: CachedPipeline, paramBytes: number, storage: readonly StorageBinding[]): GPUBindGroup {
    let key = `${p.layoutKey}|${paramBytes}`;
    for (const s of storage) key += `|${this.idOf(s.buffer)}:${s.size}`;
    let group = this.groups.get(key);
    if (!group) {
      if (this.groups.size >= MAX_BIND_GROUPS) this.groups.clear();
      group = this.createBindGroup(p.layout, this.ring.buffer, paramBytes, storage);
      this.groups.set(key, group);
    }
    return group;
  }

  /** Records a buffer-to-buffer copy (ends the open compute pass: copies cannot live inside one). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    if (size === 0) return;
    const encoder = this.ensureEncoder();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
    this.pending.add(src);
    this.pending.add(dst);
  }

  /** Runs `fn` right after the current batch is submitted (to release per-batch resources). */
  afterNextSubmit(fn: () => void): void {
    this.afterSubmit.push(fn);
  }

  /**
   * Submits the recorded batch. The returned promise settles once the GPU has validated it
   * (not when it finishes); failures are recorded in the failure state, never thrown here.
   */
  flush(): Promise<void> {
    const encoder = this.encoder;
    if (!encoder) return Promise.resolve();
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    const device = this.device;
    if (this.ring.upload(device.queue)) this.counters.writes++;
    device.pushErrorScope("out-of-memory");
    device.pushErrorScope("validation");
    device.queue.submit([encoder.finish()]);
    const validation = device.popErrorScope();
    const oom = device.popErrorScope();
    this.encoder = null;
    this.dispatches = 0;
    this.counters.submits++;
    this.pending.clear();
    const after = this.afterSubmit;
    this.afterSubmit = [];
    for (const fn of after) fn();
    this.onSubmitted();
    return Promise.all([validation, oom]).then(
      ([v, o]) => {
        if (o) this.failures.record(new WebGPUOutOfMemoryError("while running queued work", o.message));
        if (v) this.failures.record(new WebGPUExecutionError("validation", v.message));
      },
      () => {},
    );
  }
}
