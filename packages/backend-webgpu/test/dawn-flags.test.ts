/**
 * Dawn's flags (the option and TESSERA_WEBGPU_DAWN_FLAGS) and the host-work counters of `stats()`,
 * on Dawn's null backend: it needs no GPU and runs no shaders, so only counts are checked here.
 */
import * as T from "@tessera/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { DAWN_FLAGS_ENV, WebGPUBackendError, createWebGPUBackend, parseDawnFlags } from "../src/index.js";
import { FakeDevice } from "./fake-device.js";
import { dense, tryNullBackend } from "./helpers.js";

describe("parseDawnFlags", () => {
  it("splits key=value flags at commas and keeps a toggle list with its flag", () => {
    expect(parseDawnFlags("backend=null")).toEqual(["backend=null"]);
    // An adapter name with a comma in it stays one flag.
    expect(parseDawnFlags(" backend=vulkan , adapter=llvmpipe (LLVM 15.0.6, 256 bits) ")).toEqual([
      "backend=vulkan",
      "adapter=llvmpipe (LLVM 15.0.6,256 bits)",
    ]);
    expect(parseDawnFlags("backend=vulkan,enable-dawn-features=dump_shaders,disable_symbol_renaming,validate=1")).toEqual([
      "backend=vulkan",
      "enable-dawn-features=dump_shaders,disable_symbol_renaming",
      "validate=1",
    ]);
    expect(parseDawnFlags("")).toEqual([]);
    expect(parseDawnFlags(",,")).toEqual([]);
  });

  it("refuses a list that does not start with key=value, naming the variable", () => {
    expect(() => parseDawnFlags("null")).toThrow(WebGPUBackendError);
    expect(() => parseDawnFlags("null,backend=vulkan")).toThrow(
      /TESSERA_WEBGPU_DAWN_FLAGS: expected comma-separated key=value flags \(for example backend=null\), got "null,backend=vulkan"/,
    );
  });
});

describe("dawnFlags option", () => {
  it("refuses flags that are not key=value strings", async () => {
    await expect(createWebGPUBackend({ dawnFlags: ["null"] })).rejects.toThrow(
      /dawnFlags: expected key=value strings \(for example "backend=null"\), got "null"/,
    );
  });

  it("refuses flags together with a given device", async () => {
    const device = new FakeDevice();
    await expect(createWebGPUBackend({ device: device.gpu, dawnFlags: ["backend=null"] })).rejects.toThrow(/pass one or the other/);
  });
});

const { backend, reason } = await tryNullBackend({ idleWait: false });
const b = backend!;

afterAll(() => backend?.dispose());

describe.skipIf(!backend)(`Dawn's null backend${backend ? "" : ` (skipped: ${reason})`}`, () => {
  it("dawnFlags ['backend=null'] gives Dawn's null adapter", () => {
    expect(b.adapter.device).toBe("null-backend");
  });

  it("waits without sleeping on an adapter that is not a software one, unless asked to", async () => {
    const own = await createWebGPUBackend({ dawnFlags: ["backend=null"] });
    expect(own.adapter.isFallbackAdapter).toBe(false);
    expect(own.idleWait).toBe(false);
    own.dispose();
    const asked = await createWebGPUBackend({ dawnFlags: ["backend=null"], idleWait: true });
    expect(asked.idleWait).toBe(true);
    asked.dispose();
  });

  it("Dawn's refusal of a flag is an error that names the flags", async () => {
    await expect(createWebGPUBackend({ dawnFlags: ["backend=nonexistent"] })).rejects.toThrow(
      /Dawn (refused the flags|found no adapter with Dawn flags) backend=nonexistent: .*nonexistent/,
    );
  });

  it("counts dispatches, bind groups, writes, staging buffers, submits and waits", async () => {
    const x = b.alloc(64, "float32");
    const y = b.alloc(64, "float32");
    const out = b.alloc(64, "float32");
    const s0 = b.stats();
    b.write(x, new Float32Array(64)); // nothing recorded uses x: written ahead of the batch
    b.write(y, new Float32Array(64));
    const s1 = b.stats();
    expect(s1.writes - s0.writes).toBe(2);
    expect(s1.stagingBuffers - s0.stagingBuffers).toBe(0);
    b.binary("add", dense(x, [64]), dense(y, [64]), out);
    b.binary("add", dense(x, [64]), dense(y, [64]), out); // same pipeline, same buffers: the bind group is reused
    const s2 = b.stats();
    expect(s2.dispatches - s1.dispatches).toBe(2);
    expect(s2.bindGroupsCreated - s1.bindGroupsCreated).toBe(1);
    expect(s2.submits).toBe(s1.submits);
    await b.sync();
    const s3 = b.stats();
    expect(s3.submits - s2.submits).toBe(1);
    expect(s3.waits - s2.waits).toBe(1);
    expect(s3.writes - s2.writes).toBe(1); // the batch's kernel parameters, one upload per submit
    await b.read(out);
    const s4 = b.stats();
    expect(s4.waits - s3.waits).toBe(1);
    await b.read(out); // the readback staging buffer is pooled: created once
    const s5 = b.stats();
    expect(s5.stagingBuffers - s4.stagingBuffers).toBe(0);
    for (const buf of [x, y, out]) b.free(buf);
  });
});

describe.skipIf(!backend)(`host work on Dawn's null backend${backend ? "" : ` (skipped: ${reason})`}`, () => {
  it("a broadcast one-element operand is a kernel parameter: nothing is written to the GPU", () => {
    const x = b.alloc(64, "float32");
    b.fill(x, 1);
    const lr = b.alloc(1, "float32");
    const out = b.alloc(64, "float32");
    const s0 = b.stats();
    b.write(lr, Float32Array.of(0.1));
    b.binary("mul", dense(x, [64]), { buffer: lr, shape: [64], strides: [0], offset: 0 }, out);
    const s1 = b.stats();
    expect(s1.writes - s0.writes).toBe(0);
    expect(s1.dispatches - s0.dispatches).toBe(1);
    // A reduction binds it: then it is uploaded, once.
    const r = b.alloc(1, "float32");
    b.reduce("sum", lr, 1, 1, r);
    b.reduce("sum", lr, 1, 1, r);
    expect(b.stats().writes - s1.writes).toBe(1);
    for (const buf of [x, lr, out, r]) b.free(buf);
  });

  it("a write into a buffer that recorded work still reads creates no staging buffer", () => {
    const x = b.alloc(64, "float32");
    const out = b.alloc(64, "float32");
    b.write(x, new Float32Array(64));
    const s0 = b.stats();
    for (let i = 0; i < 10; i++) {
      b.unary("neg", dense(x, [64]), out); // x is pending until the next submit
      b.write(x, new Float32Array(64).fill(i));
    }
    const s1 = b.stats();
    expect(s1.stagingBuffers - s0.stagingBuffers).toBe(0);
    expect(s1.writes - s0.writes).toBe(10);
    expect(s1.submits - s0.submits).toBe(0);
    b.free(x);
    b.free(out);
  });
});

describe.skipIf(!backend)(`${DAWN_FLAGS_ENV}${backend ? "" : ` (skipped: ${reason})`}`, () => {
  it(`setBackend("webgpu") passes ${DAWN_FLAGS_ENV} to Dawn`, async () => {
    const saved = process.env[DAWN_FLAGS_ENV];
    process.env[DAWN_FLAGS_ENV] = "backend=null";
    try {
      const active = (await T.setBackend("webgpu")) as unknown as { adapter: { device: string } };
      expect(active.adapter.device).toBe("null-backend");
    } finally {
      if (saved === undefined) delete process.env[DAWN_FLAGS_ENV];
      else process.env[DAWN_FLAGS_ENV] = saved;
      await T.removeBackend("webgpu");
    }
  });

  it("a malformed variable fails backend creation with a message naming it", async () => {
    const saved = process.env[DAWN_FLAGS_ENV];
    process.env[DAWN_FLAGS_ENV] = "null";
    try {
      await expect(createWebGPUBackend()).rejects.toThrow(/TESSERA_WEBGPU_DAWN_FLAGS: expected comma-separated key=value flags/);
    } finally {
      if (saved === undefined) delete process.env[DAWN_FLAGS_ENV];
      else process.env[DAWN_FLAGS_ENV] = saved;
    }
  });
});
