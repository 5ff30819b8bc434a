/**
 * A stand-in `GPUDevice` for what no real adapter does on demand: report fewer storage buffers per
 * stage than the spec's minimum, or run out of memory at a chosen size. It implements only what the
 * backend calls, follows WebGPU's error-scope rules (an error goes to the innermost scope of its
 * filter, else to `uncapturederror`) and never touches real memory: sizes are only counted.
 */

/** WebGPU's default limits, the ones the backend reads. */
const DEFAULT_LIMITS = {
  maxBufferSize: 268_435_456,
  maxStorageBufferBindingSize: 134_217_728,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupsPerDimension: 65_535,
  minUniformBufferOffsetAlignment: 256,
};

/** The error class Dawn raises; the backend recognises uncaptured ones by this name. */
class GPUOutOfMemoryError extends Error {}

/** Options of {@link FakeDevice}. */
export interface FakeDeviceOptions {
  /** Limits overriding WebGPU's defaults. */
  limits?: Partial<typeof DEFAULT_LIMITS>;
  /** Bytes of buffers the device can hold at once; a createBuffer beyond it is out of memory. */
  memoryBytes?: number;
  /** When true, every queue.submit raises an out-of-memory error (work that needs scratch memory). */
  oomOnSubmit?: boolean;
}

interface Scope {
  filter: GPUErrorFilter;
  error: Error | null;
}

/** A fake device; pass `device.gpu` where a `GPUDevice` is expected. */
export class FakeDevice {
  readonly limits: typeof DEFAULT_LIMITS;
  /** Bytes of live buffers. */
  allocated = 0;
  /** Shader modules created: zero means no kernel reached the device. */
  shaderModules = 0;
  dispatches = 0;
  submits = 0;
  private readonly memoryBytes: number;
  private readonly oomOnSubmit: boolean;
  private readonly scopes: Scope[] = [];
  private readonly listeners: Array<(e: unknown) => void> = [];

  constructor(options: FakeDeviceOptions = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.memoryBytes = options.memoryBytes ?? Number.POSITIVE_INFINITY;
    this.oomOnSubmit = options.oomOnSubmit ?? false;
  }

  /** This object typed as the device it stands in for. */
  get gpu(): GPUDevice {
    return this as unknown as GPUDevice;
  }

  /** Never settles: the fake device is never lost. */
  readonly lost = new Promise<never>(() => {});

  readonly queue = {
    writeBuffer: () => {},
    submit: () => {
      this.submits++;
      if (this.oomOnSubmit) this.raise("out-of-memory", new GPUOutOfMemoryError("not enough memory left for the submitted work"));
    },
    onSubmittedWorkDone: () => Promise.resolve(),
  };

  /** Routes `error` to the innermost open scope of `filter`, else to the uncaptured-error listeners. */
  private raise(filter: GPUErrorFilter, error: Error): void {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const s = this.scopes[i]!;
      if (s.filter !== filter) continue;
      s.error ??= error;
      return;
    }
    for (const l of this.listeners) l({ error, preventDefault() {} });
  }

  pushErrorScope(filter: GPUErrorFilter): void {
    this.scopes.push({ filter, error: null });
  }

  popErrorScope(): Promise<Error | null> {
    const s = this.scopes.pop();
    return s ? Promise.resolve(s.error) : Promise.reject(new Error("popErrorScope: got no open scope, expected one"));
  }

  addEventListener(type: string, listener: (e: unknown) => void): void {
    if (type === "uncapturederror") this.listeners.push(listener);
  }

  createBuffer(d: { size: number }): object {
    const fits = this.allocated + d.size <= this.memoryBytes;
    // Like WebGPU, a failed allocation still returns a buffer object (an invalid one).
    if (fits) this.allocated += d.size;
    else this.raise("out-of-memory", new GPUOutOfMemoryError(`cannot allocate ${d.size} bytes with ${this.allocated} of ${this.memoryBytes} in use`));
    let destroyed = false;
    return {
      size: d.size,
      destroy: () => {
        if (fits && !destroyed) this.allocated -= d.size;
        destroyed = true;
      },
      // Never settles: a read must be ended by the recorded failure, not by the GPU answering.
      mapAsync: () => new Promise<void>(() => {}),
      getMappedRange: () => new ArrayBuffer(d.size),
      unmap: () => {},
    };
  }

  createBindGroupLayout(): object {
    return {};
  }

  createPipelineLayout(): object {
    return {};
  }

  createShaderModule(): object {
    this.shaderModules++;
    return {};
  }

  createComputePipeline(): object {
    return {};
  }

  createBindGroup(): object {
    return {};
  }

  createCommandEncoder(): object {
    return {
      beginComputePass: () => ({
        setPipeline: () => {},
        setBindGroup: () => {},
        dispatchWorkgroups: () => {
          this.dispatches++;
        },
        end: () => {},
      }),
      copyBufferToBuffer: () => {},
      finish: () => ({}),
    };
  }

  destroy(): void {}
}
