/**
 * A recorded program's dispatches, prepared once (see `WebGPUBackend.compile`): every dispatch's
 * parameters sit in one uniform buffer written at compile time, and its bind group is made once,
 * or once per set of buffers for dispatches that bind the program's dynamic buffers (its
 * arguments, the state it updates, its results). A run is then only `setPipeline`,
 * `setBindGroup` and `dispatchWorkgroups` per dispatch: no parameter packing, no kernel lookup,
 * no bind group created in a steady state, nothing written.
 */
import type { CommandRecorder, StorageBinding } from "../encoder.js";
import { BufferUsage } from "../gpu-constants.js";
import { ParamsRing } from "../params-ring.js";
import type { CachedPipeline } from "../pipelines.js";

/** A dispatch as a kernel recorded it. */
export interface RecordedDispatch {
  readonly pipeline: CachedPipeline;
  readonly params: Uint32Array;
  readonly storage: readonly StorageBinding[];
  readonly groups: readonly [number, number, number];
}

/** Bind groups kept per dispatch for different dynamic buffers before its cache starts over. */
const MAX_GROUPS_PER_DISPATCH = 16;

interface Prepared {
  readonly pipeline: CachedPipeline;
  readonly offset: number;
  readonly groups: readonly [number, number, number];
  readonly paramBytes: number;
  readonly storage: readonly StorageBinding[];
  /** For each storage binding, the index of the dynamic buffer it binds, or -1. */
  readonly dynamicAt: readonly number[];
  /** The bind group when no binding is dynamic. */
  readonly group: GPUBindGroup | null;
  /** Bind groups by the ids of the dynamic buffers bound. */
  readonly cache: Map<string, GPUBindGroup>;
  /** The storage buffers, refreshed with the dynamic ones at each run. */
  readonly buffers: GPUBuffer[];
  /** The bind group of the previous run, reused while its dynamic buffers stay the same (parameters do). */
  last: GPUBindGroup | null;
}

/** The dispatches of a compiled program. */
export class CompiledDispatches {
  private readonly paramsBuffer: GPUBuffer;
  private readonly prepared: Prepared[];

  /**
   * @param dynamic the GPU buffers of the program's dynamic buffers when it was compiled, in order.
   */
  constructor(
    device: GPUDevice,
    private readonly recorder: CommandRecorder,
    dispatches: readonly RecordedDispatch[],
    dynamic: readonly GPUBuffer[],
    alignment: number,
  ) {
    let bytes = 0;
    const offsets = dispatches.map((d) => {
      const at = Math.ceil(bytes / alignment) * alignment;
      bytes = at + ParamsRing.bindingBytes(d.params.length);
      return at;
    });
    this.paramsBuffer = device.createBuffer({
      label: "tessera compiled program parameters",
      size: Math.max(16, bytes),
      usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    });
    const host = new Uint8Array(Math.max(16, bytes));
    dispatches.forEach((d, i) => host.set(new Uint8Array(d.params.buffer, d.params.byteOffset, d.params.byteLength), offsets[i]!));
    device.queue.writeBuffer(this.paramsBuffer, 0, host);
    const dynamicIndex = new Map(dynamic.map((g, i) => [g, i]));
    this.prepared = dispatches.map((d, i) => {
      const paramBytes = ParamsRing.bindingBytes(d.params.length);
      const dynamicAt = d.storage.map((s) => dynamicIndex.get(s.buffer) ?? -1);
      const isStatic = dynamicAt.every((k) => k < 0);
      return {
        pipeline: d.pipeline,
        offset: offsets[i]!,
        groups: d.groups,
        paramBytes,
        storage: d.storage,
        dynamicAt,
        group: isStatic ? recorder.createBindGroup(d.pipeline.layout, this.paramsBuffer, paramBytes, d.storage) : null,
        cache: new Map(),
        buffers: d.storage.map((s) => s.buffer),
        last: null,
      };
    });
  }

  /** Number of dispatches per run. */
  get dispatches(): number {
    return this.prepared.length;
  }

  /** Records one run with `dynamic` (GPU buffers, in the order given at compile time). */
  run(dynamic: readonly GPUBuffer[]): void {
    const recorder = this.recorder;
    for (const p of this.prepared) {
      let group = p.group;
      if (!group) {
        let same = p.last !== null;
        for (let s = 0; s < p.dynamicAt.length; s++) {
          const k = p.dynamicAt[s]!;
          if (k < 0) continue;
          const b = dynamic[k]!;
          if (p.buffers[s] !== b) {
            p.buffers[s] = b;
            same = false;
          }
        }
        group = same && p.last ? p.last : this.groupFor(p);
        p.last = group;
      }
      recorder.dispatchPrepared(p.pipeline, group, p.offset, p.buffers, p.groups);
    }
  }

  /** The bind group of `p` for the dynamic buffers now in `p.buffers`: cached, or made. */
  private groupFor(p: Prepared): GPUBindGroup {
    const recorder = this.recorder;
    let key = "";
    for (let s = 0; s < p.dynamicAt.length; s++) if (p.dynamicAt[s]! >= 0) key += `${recorder.idOf(p.buffers[s]!)},`;
    let group = p.cache.get(key);
    if (!group) {
      if (p.cache.size >= MAX_GROUPS_PER_DISPATCH) p.cache.clear();
      const storage = p.storage.map((s, i) => (p.dynamicAt[i]! < 0 ? s : { buffer: p.buffers[i]!, size: s.size }));
      group = recorder.createBindGroup(p.pipeline.layout, this.paramsBuffer, p.paramBytes, storage);
      p.cache.set(key, group);
    }
    return group;
  }

  /** Destroys the parameter buffer, after the batch that may still use it is submitted. */
  destroy(): void {
    const params = this.paramsBuffer;
    if (this.recorder.hasPendingWork) this.recorder.afterNextSubmit(() => params.destroy());
    else params.destroy();
  }
}
