/**
 * Errors this backend raises. GPU failures surface asynchronously (error scopes, `device.lost`),
 * so the backend records the first one in a {@link FailureState} and every later call rethrows it:
 * a broken device makes calls fail loudly instead of returning garbage or hanging.
 */

/** Base class of every error thrown by the WebGPU backend. */
export class WebGPUBackendError extends Error {
  constructor(message: string) {
    super(`webgpu: ${message}`);
    this.name = "WebGPUBackendError";
  }
}

/** No WebGPU adapter could be found (no GPU driver, or no WebGPU in this runtime). */
export class WebGPUUnavailableError extends WebGPUBackendError {
  constructor(detail: string) {
    super(
      `${detail}. Install a GPU driver with Vulkan (Linux), Metal (macOS) or D3D12 (Windows) support; on a ` +
        "CPU-only Linux machine install Mesa's software Vulkan driver (Debian/Ubuntu: `apt-get install " +
        "mesa-vulkan-drivers`, on Debian bookworm from bookworm-backports). In a browser, use one with WebGPU enabled.",
    );
    this.name = "WebGPUUnavailableError";
  }
}

/** The GPU device was lost (driver reset, device destroyed, or the backend disposed). */
export class WebGPUDeviceLostError extends WebGPUBackendError {
  /** `GPUDeviceLostReason`: `destroyed` or `unknown`. */
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(`the GPU device was lost (${reason}${message ? `: ${message}` : ""}); create a new backend to continue`);
    this.name = "WebGPUDeviceLostError";
    this.reason = reason;
  }
}

/** The device ran out of memory while allocating or running work. */
export class WebGPUOutOfMemoryError extends WebGPUBackendError {
  constructor(what: string, message: string) {
    super(`out of GPU memory ${what}${message ? ` (${message})` : ""}; free tensors (dispose them or use tidy) or use smaller batches`);
    this.name = "WebGPUOutOfMemoryError";
  }
}

/** A tensor or dispatch exceeds a device limit that the backend cannot split around. */
export class WebGPULimitError extends WebGPUBackendError {
  /** The `GPUSupportedLimits` field that was exceeded. */
  readonly limit: string;
  constructor(limit: string, message: string) {
    super(`${message} (device limit ${limit})`);
    this.name = "WebGPULimitError";
    this.limit = limit;
  }
}

/** The GPU reported an error for recorded work (a validation or internal error: a backend bug). */
export class WebGPUExecutionError extends WebGPUBackendError {
  constructor(kind: string, message: string) {
    super(`${kind} error from the GPU: ${message}`);
    this.name = "WebGPUExecutionError";
  }
}

/**
 * Holds the first asynchronous failure. Once set, the backend is unusable: every call throws it,
 * because later work would build on buffers the failed work never produced.
 */
export class FailureState {
  private failure: Error | null = null;
  private readonly waiters = new Set<(e: Error) => void>();

  /** The recorded failure, if any. */
  get error(): Error | null {
    return this.failure;
  }

  /** Records `e` unless an earlier failure is already recorded (the first cause is the useful one). */
  record(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const w of this.waiters) w(e);
    this.waiters.clear();
  }

  /** Throws the recorded failure, if any. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Races `p` against a failure, so awaiting GPU work never hangs on a lost device. */
  race<T>(p: Promise<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const onFail = (e: Error) => reject(e);
      this.waiters.add(onFail);
      p.then(
        (v) => {
          this.waiters.delete(onFail);
          resolve(v);
        },
        (e: unknown) => {
          this.waiters.delete(onFail);
          reject(this.failure ?? e);
        },
      );
    });
  }
}
