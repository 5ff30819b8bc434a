/**
 * Device limits and out-of-memory errors, on a fake device (fake-device.ts), so they run on every
 * machine. A real adapter cannot be made to do either on demand:
 * - every kernel binds at most 5 storage buffers, and WebGPU guarantees at least 8 per stage;
 * - lavapipe backs buffers with host memory: a buffer of its maxBufferSize (4 GiB) is created
 *   without error and Dawn's zero-fill then commits it in RAM, and under an address-space rlimit
 *   lavapipe crashes (SIGSEGV) instead of reporting VK_ERROR_OUT_OF_DEVICE_MEMORY (tried with
 *   Mesa 25.0); a tensor is capped at maxStorageBufferBindingSize (128 MiB there) anyway.
 */
import { describe, expect, it } from "vitest";
import { WebGPULimitError, WebGPUOutOfMemoryError, createWebGPUBackend } from "../src/index.js";
import { FakeDevice } from "./fake-device.js";
import { dense } from "./helpers.js";

/** A backend on `device` (it does not own the device, so never destroys it). */
function backendOn(device: FakeDevice) {
  return createWebGPUBackend({ device: device.gpu, idleWait: false });
}

describe("maxStorageBuffersPerShaderStage (fake device)", () => {
  it("an op whose kernel binds more storage buffers than the device allows throws a WebGPULimitError naming the limit", async () => {
    const device = new FakeDevice({ limits: { maxStorageBuffersPerShaderStage: 2 } });
    const b = await backendOn(device);
    const [x, y, out] = [b.alloc(4, "float32"), b.alloc(4, "float32"), b.alloc(4, "float32")];
    let error: unknown;
    try {
      b.binary("add", dense(x, [4]), dense(y, [4]), out); // binds x, y and out
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebGPULimitError);
    expect((error as WebGPULimitError).limit).toBe("maxStorageBuffersPerShaderStage");
    expect((error as Error).message).toMatch(
      /kernel 'binary\.add' binds 3 storage buffers in its compute stage, more than this device's 2 \(device limit maxStorageBuffersPerShaderStage\)/,
    );
    expect(device.shaderModules).toBe(0); // refused before anything reached the device
    // Nothing was recorded, so the backend stays usable for kernels within the limit.
    b.fill(x, 1); // binds one buffer
    await b.sync();
    expect(device.dispatches).toBe(1);
    b.dispose();
  });

  it("a kernel at exactly the limit compiles and runs", async () => {
    const device = new FakeDevice({ limits: { maxStorageBuffersPerShaderStage: 3 } });
    const b = await backendOn(device);
    const [x, y, out] = [b.alloc(4, "float32"), b.alloc(4, "float32"), b.alloc(4, "float32")];
    b.binary("add", dense(x, [4]), dense(y, [4]), out);
    await b.sync();
    expect(device.shaderModules).toBe(1);
    expect(device.dispatches).toBe(1);
    b.dispose();
  });
});

describe("out of GPU memory (fake device)", () => {
  it("an allocation the device cannot hold fails the next await and every later call with WebGPUOutOfMemoryError", async () => {
    const device = new FakeDevice({ memoryBytes: 16 << 20 });
    const b = await backendOn(device);
    const small = b.alloc(1024, "float32");
    b.fill(small, 1);
    await b.sync(); // 4 KiB fits
    // WebGPU reports a failed allocation asynchronously: alloc returns, the error follows.
    b.alloc(8 << 20, "float32"); // 32 MiB
    const oom = /out of GPU memory allocating 33554432 bytes for a tensor buffer \(cannot allocate 33554432 bytes.*\); free tensors/;
    await expect(b.sync()).rejects.toThrow(WebGPUOutOfMemoryError);
    await expect(b.sync()).rejects.toThrow(oom);
    expect(() => b.alloc(1, "float32")).toThrow(oom);
    expect(() => b.fill(small, 2)).toThrow(WebGPUOutOfMemoryError);
    b.dispose();
  });

  it("a read rejects instead of hanging when memory runs out before the GPU answers", async () => {
    const device = new FakeDevice({ memoryBytes: 16 << 20 });
    const b = await backendOn(device);
    const small = b.alloc(1024, "float32");
    b.alloc(8 << 20, "float32");
    // The fake's mapAsync never settles: only the recorded failure can end this read.
    await expect(b.read(small)).rejects.toThrow(WebGPUOutOfMemoryError);
    b.dispose();
  });

  it("out of memory while running submitted work is reported as such", async () => {
    const device = new FakeDevice({ oomOnSubmit: true });
    const b = await backendOn(device);
    const x = b.alloc(4, "float32");
    b.fill(x, 1);
    await expect(b.sync()).rejects.toThrow(/out of GPU memory while running queued work \(not enough memory left for the submitted work\)/);
    expect(device.submits).toBe(1);
    b.dispose();
  });
});
