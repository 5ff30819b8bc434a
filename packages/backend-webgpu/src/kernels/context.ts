/**
 * What a kernel needs from the backend: the pipeline cache, the command recorder, device limits
 * and scratch buffers. Kernels are plain functions over this, so each family lives in its own file.
 */
import type { WebGPUBuffer } from "../buffer.js";
import type { DType } from "../contract.js";
import type { CommandRecorder } from "../encoder.js";
import type { PipelineCache } from "../pipelines.js";
import type { SplitPolicy } from "./gemm.js";
import type { BindingSet, ParamBuilder } from "./wgsl.js";

/** The backend services kernels use. */
export interface KernelContext {
  readonly pipelines: PipelineCache;
  /** Where dispatches go: the command recorder, or a deferred kernel's capture (see backend.ts). */
  readonly recorder: Pick<CommandRecorder, "dispatch">;
  /** `maxComputeWorkgroupsPerDimension`. */
  readonly maxWorkgroupsPerDim: number;
  /** How readily long reductions are split across workgroups (software adapter or GPU). */
  readonly splits: SplitPolicy;
  /** A scratch buffer for multi-pass kernels; give it back with `releaseTemp` once recorded. */
  temp(size: number, dtype: DType): WebGPUBuffer;
  /** Returns a scratch buffer to the pool (safe right away: later recorded work runs after). */
  releaseTemp(b: WebGPUBuffer): void;
}

/** Compiles (or finds) the kernel for `key` and records one dispatch of it. */
export function launch(
  ctx: KernelContext,
  key: string,
  label: string,
  source: () => string,
  params: ParamBuilder,
  bindings: BindingSet,
  groups: readonly [number, number, number],
): void {
  const pipeline = ctx.pipelines.get(`${key}|${bindings.key()}|p${params.length}`, label, bindings.layoutKey(), source);
  ctx.recorder.dispatch(pipeline, params.data(), bindings.storage(), groups);
}
