/**
 * Buffers, batching, pooling and failure handling of the WebGPU backend, tested directly through
 * the backend contract.
 */
import { listBackends } from "@tessera/tensor";
import { afterAll, describe, expect, it } from "vitest";
import type { BackendBuffer } from "../src/contract.js";
import { WebGPULimitError, WebGPUUnavailableError, WEBGPU_PRIORITY, createWebGPUBackend, sizeClass } from "../src/index.js";
import { dense, tryBackend, typed, upload, webgpuRequiredError, webgpuRequirement } from "./helpers.js";

const { backend, reason } = await tryBackend();
const b = backend!;

describe.skipIf(!backend)(`webgpu buffers${backend ? "" : ` (skipped: no WebGPU adapter: ${reason})`}`, () => {
  afterAll(() => backend?.dispose());

  it("round-trips float32, including NaN, infinities and -0", async () => {
    const values = Float32Array.of(0, -0, 1.5, -3.25, 3.4e38, 1e-40, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
    const buf = b.alloc(values.length, "float32");
    b.write(buf, values);
    const out = await b.read(buf);
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(Array.from(values));
    expect(Object.is(out[1], -0)).toBe(true);
    b.free(buf);
  });

  it("round-trips int32 extremes", async () => {
    const values = Int32Array.of(0, 1, -1, 2147483647, -2147483648, 123456789);
    const buf = b.alloc(values.length, "int32");
    b.write(buf, values);
    const out = await b.read(buf);
    expect(out).toBeInstanceOf(Int32Array);
    expect(Array.from(out)).toEqual(Array.from(values));
    b.free(buf);
  });

  it("round-trips bool as bytes (stored as 32-bit words on the GPU)", async () => {
    const buf = b.alloc(5, "bool");
    b.write(buf, Uint8Array.of(1, 0, 0, 1, 1));
    const out = await b.read(buf);
    expect(out).toBeInstanceOf(Uint8Array);
    expect(Array.from(out)).toEqual([1, 0, 0, 1, 1]);
    expect(buf.size).toBe(5);
    expect(buf.dtype).toBe("bool");
    b.free(buf);
  });

  it("handles empty buffers", async () => {
    const buf = b.alloc(0, "float32");
    b.write(buf, new Float32Array(0));
    b.fill(buf, 3);
    expect((await b.read(buf)).length).toBe(0);
    b.free(buf);
  });

  it("fills every dtype with its conversion of the value", async () => {
    const f = b.alloc(3, "float32");
    const i = b.alloc(3, "int32");
    const o = b.alloc(3, "bool");
    b.fill(f, -2.5);
    b.fill(i, 7.9);
    b.fill(o, 2);
    expect(Array.from(await b.read(f))).toEqual([-2.5, -2.5, -2.5]);
    expect(Array.from(await b.read(i))).toEqual([7, 7, 7]);
    expect(Array.from(await b.read(o))).toEqual([1, 1, 1]);
    b.fill(f, Number.NaN);
    expect(Array.from(await b.read(f)).every(Number.isNaN)).toBe(true);
    for (const x of [f, i, o]) b.free(x);
  });

  it("orders a write after recorded work that reads the old contents", async () => {
    const x = upload(b, "float32", [1, 2, 3]);
    const y = b.alloc(3, "float32");
    b.unary("neg", dense(x, [3]), y); // recorded, not submitted
    b.write(x, Float32Array.of(10, 20, 30)); // must not overtake the neg
    const z = b.alloc(3, "float32");
    b.unary("neg", dense(x, [3]), z);
    expect(Array.from(await b.read(y))).toEqual([-1, -2, -3]);
    expect(Array.from(await b.read(z))).toEqual([-10, -20, -30]);
    for (const t of [x, y, z]) b.free(t);
  });

  it("a write while queued work still reads the buffer moves it to an idle GPU buffer; both see the right contents", async () => {
    const x = upload(b, "float32", [1, 2, 3, 4]);
    const y = b.alloc(4, "float32");
    b.unary("neg", dense(x, [4]), y); // recorded: x's GPU buffer is pending
    const staged = b.stats().stagingBuffers;
    b.write(x, Float32Array.of(5, 6, 7, 8));
    expect(b.stats().stagingBuffers).toBe(staged);
    const z = b.alloc(4, "float32");
    b.unary("neg", dense(x, [4]), z);
    expect(Array.from(await b.read(y))).toEqual([-1, -2, -3, -4]);
    expect(Array.from(await b.read(z))).toEqual([-5, -6, -7, -8]);
    expect(Array.from(await b.read(x))).toEqual([5, 6, 7, 8]);
    for (const t of [x, y, z]) b.free(t);
  });

  it("one-element writes and fills stay on the host until a kernel binds them, with the same results either way", async () => {
    for (const dtype of ["float32", "int32", "bool"] as const) {
      const s = b.alloc(1, dtype);
      b.write(s, typed(dtype, [dtype === "float32" ? -2.5 : dtype === "int32" ? -7 : 1]));
      const x = upload(b, dtype, dtype === "bool" ? [0, 1, 1] : [1, 2, 3]);
      const viaParam = b.alloc(3, dtype === "bool" ? "bool" : dtype);
      // Broadcast (stride 0): the kernel takes the value as a parameter.
      b.binary("maximum", dense(x, [3]), { buffer: s, shape: [3], strides: [0], offset: 0 }, viaParam);
      // A [1] view with stride 1 and a reduction bind the buffer: it is uploaded first.
      const bound = b.alloc(1, dtype);
      b.binary("maximum", { buffer: s, shape: [1], strides: [1], offset: 0 }, { buffer: s, shape: [1], strides: [1], offset: 0 }, bound);
      const expected = dtype === "float32" ? [1, 2, 3] : dtype === "int32" ? [1, 2, 3] : [1, 1, 1];
      expect(Array.from(await b.read(viaParam))).toEqual(expected);
      expect(Array.from(await b.read(bound))).toEqual([dtype === "float32" ? -2.5 : dtype === "int32" ? -7 : 1]);
      expect(Array.from(await b.read(s))).toEqual([dtype === "float32" ? -2.5 : dtype === "int32" ? -7 : 1]);
      for (const t of [s, x, viaParam, bound]) b.free(t);
    }
    const one = b.alloc(1, "float32");
    b.fill(one, 3);
    const sum = b.alloc(1, "float32");
    b.reduce("sum", one, 1, 1, sum); // binds `one`
    const scaled = b.alloc(2, "float32");
    const two = upload(b, "float32", [1, 2]);
    b.binary("mul", dense(two, [2]), { buffer: one, shape: [2], strides: [0], offset: 0 }, scaled);
    expect(Array.from(await b.read(sum))).toEqual([3]);
    expect(Array.from(await b.read(scaled))).toEqual([3, 6]);
    // A kernel that overwrites the scalar replaces the host value.
    b.unary("neg", { buffer: two, shape: [1], strides: [1], offset: 1 }, one);
    const again = b.alloc(2, "float32");
    b.binary("mul", dense(two, [2]), { buffer: one, shape: [2], strides: [0], offset: 0 }, again);
    expect(Array.from(await b.read(again))).toEqual([-2, -4]);
    for (const t of [one, sum, scaled, two, again]) b.free(t);
  });

  it("reuses a freed buffer for the next allocation of the same size class", async () => {
    const before = b.memory();
    const a = b.alloc(1000, "float32");
    const gpu = (a as unknown as { gpu: GPUBuffer }).gpu;
    expect(b.memory().buffers).toBe(before.buffers + 1);
    b.free(a);
    expect(b.memory().buffers).toBe(before.buffers);
    expect(b.memory().pooledBuffers).toBeGreaterThanOrEqual(1);
    const c = b.alloc(950, "int32"); // same class (4000 and 3800 bytes both round to 4096)
    expect((c as unknown as { gpu: GPUBuffer }).gpu).toBe(gpu);
    b.fill(c, 4);
    expect((await b.read(c))[949]).toBe(4);
    b.free(c);
  });

  it("a buffer freed while queued work still reads it keeps its contents for that work", async () => {
    const x = upload(b, "float32", [1, 2, 3, 4]);
    const y = b.alloc(4, "float32");
    b.unary("exp", dense(x, [4]), y);
    b.free(x); // the exp is only recorded
    const reused = b.alloc(4, "float32"); // very likely x's GPU buffer
    b.fill(reused, 0);
    expect(Array.from(await b.read(y)).map((v) => Math.round(Math.log(v)))).toEqual([1, 2, 3, 4]);
    b.free(y);
    b.free(reused);
  });

  it("size classes are power-of-two-ish (at most 25% waste)", () => {
    expect(sizeClass(1)).toBe(256);
    expect(sizeClass(256)).toBe(256);
    expect(sizeClass(257)).toBe(320);
    expect(sizeClass(4000)).toBe(4096);
    expect(sizeClass(5000)).toBe(5120);
    for (const n of [300, 1000, 12345, 1 << 20, 3e6]) {
      expect(sizeClass(n)).toBeGreaterThanOrEqual(n);
      expect(sizeClass(n)).toBeLessThanOrEqual(n * 1.25);
    }
  });

  it("records ops without submitting; a read submits the batch once", async () => {
    const x = upload(b, "float32", [1, 2, 3, 4]);
    await b.sync();
    const start = b.stats().submits;
    let cur: BackendBuffer = x;
    const made: BackendBuffer[] = [];
    for (let i = 0; i < 20; i++) {
      const next = b.alloc(4, "float32");
      b.binary("add", dense(cur, [4]), dense(x, [4]), next);
      made.push(next);
      cur = next;
    }
    expect(b.stats().submits).toBe(start);
    expect(b.stats().pendingDispatches).toBe(20);
    expect(Array.from(await b.read(cur))).toEqual([21, 42, 63, 84]);
    expect(b.stats().submits).toBe(start + 1);
    for (const t of [x, ...made]) b.free(t);
  });

  it("submits every maxDispatchesPerBatch dispatches (second backend sharing the device)", async () => {
    const small = await createWebGPUBackend({ device: b.device, maxDispatchesPerBatch: 4 });
    const x = small.alloc(8, "float32");
    small.fill(x, 1);
    for (let i = 0; i < 10; i++) small.unary("abs", dense(x, [8]), x);
    expect(small.stats().submits).toBe(2);
    expect(Array.from(await small.read(x))).toEqual(new Array(8).fill(1));
    small.dispose(); // does not destroy the caller's device
    const y = upload(b, "int32", [5]);
    expect(Array.from(await b.read(y))).toEqual([5]);
    b.free(y);
  });

  it("splits dispatches over maxComputeWorkgroupsPerDimension into a 2-D grid", async () => {
    const n = 256 * b.device.limits.maxComputeWorkgroupsPerDimension + 1000;
    const x = b.alloc(n, "float32");
    const y = b.alloc(n, "float32");
    b.fill(x, 2);
    b.unary("neg", dense(x, [n]), y);
    const out = await b.read(y);
    expect(out[0]).toBe(-2);
    expect(out[n - 1]).toBe(-2);
    expect(out[n - 500]).toBe(-2);
    b.free(x);
    b.free(y);
  });

  it("memory() counts live and pooled buffers", () => {
    const m0 = b.memory();
    const x = b.alloc(10, "float32");
    const m1 = b.memory();
    expect(m1.buffers).toBe(m0.buffers + 1);
    expect(m1.bytes).toBeGreaterThanOrEqual(m0.bytes + 40);
    b.free(x);
    const m2 = b.memory();
    expect(m2.buffers).toBe(m0.buffers);
    expect(m2.bytes).toBe(m0.bytes);
    expect(typeof m2.pooledBytes).toBe("number");
  });

  it("refuses a tensor larger than one storage binding, naming the limit", () => {
    const limit = b.device.limits.maxStorageBufferBindingSize;
    expect(() => b.alloc(Math.floor(limit / 4) + 1, "float32")).toThrow(WebGPULimitError);
    expect(() => b.alloc(Math.floor(limit / 4) + 1, "float32")).toThrow(/maxStorageBufferBindingSize/);
  });

  it("gets the adapter's storage-buffer limits, not WebGPU's defaults", async () => {
    const { create } = await import("webgpu");
    const adapter = await create([]).requestAdapter();
    const want = adapter!.limits;
    const got = b.device.limits;
    expect(got.maxStorageBuffersPerShaderStage).toBe(want.maxStorageBuffersPerShaderStage);
    expect(got.maxStorageBufferBindingSize).toBe(want.maxStorageBufferBindingSize);
    expect(got.maxBufferSize).toBe(want.maxBufferSize);
  });

  it("rejects buffers of another backend", () => {
    const foreign = { size: 2, dtype: "float32" as const };
    expect(() => b.fill(foreign, 1)).toThrow(/does not belong to the webgpu backend/);
  });

  it("has no gaps: every heavy kernel is implemented", () => {
    expect(b.gaps).toEqual({});
    expect(Object.keys(b.kernels).sort()).toEqual([
      "avgPool2d",
      "avgPool2dBackward",
      "conv2d",
      "conv2dBackwardInput",
      "conv2dBackwardWeight",
      "gather",
      "matmul",
      "maxPool2d",
      "maxPool2dBackward",
    ]);
    expect("readSync" in b).toBe(false);
  });

  it("a lost device rejects pending reads and later calls instead of hanging", async () => {
    const lost = await createWebGPUBackend();
    const x = upload(lost, "float32", [1, 2]);
    lost.device.destroy();
    await expect(lost.read(x)).rejects.toThrow(/lost|destroy/i);
    await new Promise((r) => setTimeout(r, 50));
    expect(() => lost.alloc(2, "float32")).toThrow(/device was lost/);
    lost.dispose();
  });

  it("a GPU error outside the backend's error scopes fails later calls loudly", async () => {
    const d = await createWebGPUBackend();
    const x = upload(d, "float32", [1]);
    // MAP_READ may only be combined with COPY_DST: an uncaptured validation error.
    d.device.createBuffer({ size: 16, usage: 0x0001 | 0x0080 });
    await expect(d.read(x)).rejects.toThrow(/validation|uncaptured|usage/i);
    expect(() => d.alloc(1, "float32")).toThrow(/uncaptured/);
    d.dispose();
  });

  describe("deferred gradient kernels", () => {
    const p = { stride: [1, 1] as [number, number], padding: [0, 0] as [number, number], dilation: [1, 1] as [number, number], groups: 1 };
    const s4 = [1, 1, 2, 2] as [number, number, number, number];
    const w4 = [1, 1, 1, 1] as [number, number, number, number];

    it("a gradient whose output is freed before any use never runs", async () => {
      const before = b.stats();
      const dy = upload(b, "float32", [1, 2, 3, 4]);
      const w = upload(b, "float32", [2]);
      const gx = b.alloc(4, "float32");
      b.kernels.conv2dBackwardInput!(dy, s4, w, w4, gx, s4, p);
      expect(b.stats().deferredKernels).toBe(1);
      b.free(dy); // still read by the deferred kernel: held, not pooled
      b.free(gx);
      const after = b.stats();
      expect(after.deferredKernels).toBe(0);
      expect(after.elidedKernels).toBe(before.elidedKernels + 1);
      b.free(w);
      await b.sync();
    });

    it("operands freed or overwritten after the call do not change the result", async () => {
      const dy = upload(b, "float32", [1, 2, 3, 4]);
      const w = upload(b, "float32", [2]);
      const gx = b.alloc(4, "float32");
      b.kernels.conv2dBackwardInput!(dy, s4, w, w4, gx, s4, p);
      b.free(dy);
      const reuse = upload(b, "float32", [100, 100, 100, 100]); // must not land in dy's buffer
      b.write(w, Float32Array.of(5)); // records the deferred kernel first
      expect(Array.from(await b.read(gx))).toEqual([2, 4, 6, 8]);
      for (const t of [w, gx, reuse]) b.free(t);
    });

    it("ops using the output, reads and syncs run it first", async () => {
      const x = upload(b, "float32", [1, 2, 3, 4]);
      const dy = upload(b, "float32", [1, 1, 2, 2]);
      const gw = b.alloc(1, "float32");
      b.kernels.conv2dBackwardWeight!(x, s4, dy, s4, gw, w4, p);
      const twice = b.alloc(1, "float32");
      b.binary("add", dense(gw, [1]), dense(gw, [1]), twice);
      expect(Array.from(await b.read(twice))).toEqual([34]);
      const gx = b.alloc(4, "float32");
      b.kernels.conv2dBackwardInput!(dy, s4, gw, w4, gx, s4, p);
      await b.sync();
      expect(b.stats().deferredKernels).toBe(0);
      expect(Array.from(await b.read(gx))).toEqual([17, 17, 34, 34]);
      for (const t of [x, dy, gw, twice, gx]) b.free(t);
    });
  });

  it("sleeps while waiting on a software adapter (lavapipe) by default", () => {
    expect(b.idleWait).toBe(b.adapter.isFallbackAdapter || b.adapter.architecture === "software");
  });

  it("reads and syncs with idleWait off (Dawn's own polling) as well", async () => {
    const d = await createWebGPUBackend({ idleWait: false });
    const x = upload(d, "float32", [1, 2, 3]);
    d.fill(x, 4);
    await d.sync();
    expect(Array.from(await d.read(x))).toEqual([4, 4, 4]);
    d.dispose();
  });

  it("dispose releases everything and makes later calls throw", async () => {
    const d = await createWebGPUBackend();
    const x = d.alloc(100, "float32");
    d.fill(x, 1);
    d.free(d.alloc(100, "float32"));
    await d.sync();
    d.dispose();
    expect(d.memory()).toEqual({ buffers: 0, bytes: 0, pooledBuffers: 0, pooledBytes: 0 });
    expect(() => d.alloc(1, "float32")).toThrow(/disposed/);
    await expect(d.read(x)).rejects.toThrow(/disposed/);
  });
});

describe("webgpu registration and errors (no device needed)", () => {
  it("importing the package registers 'webgpu' below the CPU backend's priority", () => {
    expect(WEBGPU_PRIORITY).toBe(0);
    expect(listBackends().find((e) => e.name === "webgpu")).toMatchObject({ name: "webgpu", priority: 0 });
  });

  it("the no-adapter error says how to fix it", () => {
    const e = new WebGPUUnavailableError("no WebGPU adapter found");
    expect(e.message).toMatch(/no WebGPU adapter found/);
    expect(e.message).toMatch(/mesa-vulkan-drivers/);
    expect(e.message).toMatch(/GPU driver/);
  });

  it("WebGPU is required (no skipping) under TESSERA_REQUIRE_WEBGPU=1 or CI=true, and TESSERA_REQUIRE_WEBGPU=0 overrides CI", () => {
    expect(webgpuRequirement({})).toBeNull();
    expect(webgpuRequirement({ CI: "true" })).toBe("CI=true");
    expect(webgpuRequirement({ CI: "false" })).toBeNull();
    expect(webgpuRequirement({ TESSERA_REQUIRE_WEBGPU: "1" })).toBe("TESSERA_REQUIRE_WEBGPU=1");
    expect(webgpuRequirement({ CI: "true", TESSERA_REQUIRE_WEBGPU: "0" })).toBeNull();
    const e = webgpuRequiredError("CI=true", "webgpu: no WebGPU adapter found");
    expect(e.message).toMatch(/required here \(CI=true\) but no adapter started: webgpu: no WebGPU adapter found/);
    expect(e.message).toMatch(/lavapipe.*mesa-vulkan-drivers.*bookworm-backports/s);
    expect(e.message).toMatch(/TESSERA_REQUIRE_WEBGPU=0/);
  });
});
