/**
 * Compute pipelines, compiled once. Kernels are WGSL generated per specialisation (op, dtypes,
 * rank, which operands are contiguous or aliased); compiling is expensive (milliseconds per
 * shader, far more on a software adapter), so pipelines are cached by the specialisation key and,
 * behind it, by the generated source, so two keys producing the same WGSL share one pipeline.
 *
 * Layouts are explicit rather than `auto`: binding 0 (the parameter block) takes a dynamic offset,
 * so a bind group does not depend on the dispatch's parameter slot and can be reused (see
 * encoder.ts), and kernels with the same binding pattern share one layout.
 */
import { WebGPUExecutionError, WebGPULimitError } from "./errors.js";

/** `GPUShaderStage.COMPUTE` (fixed by the spec; Dawn's Node bindings do not define the global). */
const COMPUTE_STAGE = 0x4;

/** A compiled pipeline and the layout its bind groups use. */
export interface CachedPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** The storage-binding pattern (`r`/`w` per binding) the layout was made for. */
  readonly layoutKey: string;
  readonly label: string;
}

/** Cache of compute pipelines keyed by specialisation and by WGSL source. */
export class PipelineCache {
  private readonly byKey = new Map<string, CachedPipeline>();
  private readonly bySource = new Map<string, CachedPipeline>();
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();

  constructor(
    private readonly device: GPUDevice,
    private readonly onError: (e: Error) => void,
  ) {}

  /** Pipelines compiled so far. */
  get size(): number {
    return this.bySource.size;
  }

  /**
   * The pipeline for `key`, generating its WGSL with `source()` only on a miss. `layoutKey` has one
   * letter per storage binding: `w` for read_write, `r` for read-only. Throws a WebGPULimitError
   * when the kernel binds more storage buffers than the device allows in one shader stage.
   */
  get(key: string, label: string, layoutKey: string, source: () => string): CachedPipeline {
    const hit = this.byKey.get(key);
    if (hit) return hit;
    // Checked here, synchronously, so the op that needs the kernel throws and names the limit;
    // left to the driver, the layout would be an asynchronous validation error that breaks the backend.
    const max = this.device.limits.maxStorageBuffersPerShaderStage;
    if (layoutKey.length > max) {
      throw new WebGPULimitError(
        "maxStorageBuffersPerShaderStage",
        `kernel '${label}' binds ${layoutKey.length} storage buffers in its compute stage, more than this device's ${max}`,
      );
    }
    const code = source();
    const sourceKey = `${layoutKey}\n${code}`;
    let entry = this.bySource.get(sourceKey);
    if (!entry) {
      entry = this.compile(label, code, layoutKey);
      this.bySource.set(sourceKey, entry);
    }
    this.byKey.set(key, entry);
    return entry;
  }

  private layout(layoutKey: string): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    let l = this.layouts.get(layoutKey);
    if (!l) {
      const entries: GPUBindGroupLayoutEntry[] = [{ binding: 0, visibility: COMPUTE_STAGE, buffer: { type: "uniform", hasDynamicOffset: true } }];
      [...layoutKey].forEach((c, i) => {
        entries.push({ binding: i + 1, visibility: COMPUTE_STAGE, buffer: { type: c === "w" ? "storage" : "read-only-storage" } });
      });
      const group = this.device.createBindGroupLayout({ label: `tessera ${layoutKey}`, entries });
      l = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(layoutKey, l);
    }
    return l;
  }

  private compile(label: string, code: string, layoutKey: string): CachedPipeline {
    const device = this.device;
    // Shader errors are backend bugs; an error scope turns them into a recorded failure that names
    // the kernel, instead of an anonymous console warning.
    device.pushErrorScope("validation");
    const layout = this.layout(layoutKey);
    const module = device.createShaderModule({ label, code });
    const pipeline = device.createComputePipeline({ label, layout: layout.pipeline, compute: { module, entryPoint: "main" } });
    device.popErrorScope().then(
      (err) => {
        if (err) this.onError(new WebGPUExecutionError("shader", `kernel '${label}': ${err.message}\n${code}`));
      },
      () => {},
    );
    return { pipeline, layout: layout.group, layoutKey, label };
  }
}
