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

describe.skipIf(!backend)(`Dawn's null backend${backend ? "" : ` (skipped: ${reason})`}`, () => {
  afterAll(() => backend?.dispose());

  it("dawnFlags ['backend=null'] gives Dawn's null adapter", () => {
    expect(b.adapter.device).toBe("null-backend");
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
