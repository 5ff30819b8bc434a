import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../src/checkpoint/atomic-write.js";
import { CheckpointError, decodeSafetensors, encodeSafetensors, loadSafetensors, type NamedArray, saveSafetensors } from "../src/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "fixtures");

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tessera-safetensors-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Temp files writeFileAtomic leaves in `dir` (it names them `.<target>.<pid>.<random>.tmp`). */
function tempFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"));
}

/** Builds a safetensors file by hand from a header (object or raw JSON text) and a data buffer. */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Parses the header of an encoded file (length prefix + JSON). */
function headerOf(bytes: Uint8Array): { length: number; text: string; json: Record<string, unknown> } {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + length));
  return { length, text, json: JSON.parse(text) };
}

function f32(shape: number[], values: number[]): NamedArray {
  return { dtype: "float32", shape, data: Float32Array.from(values) };
}
function i32(shape: number[], values: number[]): NamedArray {
  return { dtype: "int32", shape, data: Int32Array.from(values) };
}
function bool(shape: number[], values: number[]): NamedArray {
  return { dtype: "bool", shape, data: Uint8Array.from(values) };
}

/** Expects `fn` to throw a CheckpointError for `source` whose reason matches `reason`. */
function expectRefused(fn: () => unknown, reason: RegExp, source = "bad.safetensors"): CheckpointError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CheckpointError);
  const err = caught as CheckpointError;
  expect(err.message.startsWith(`checkpoint ${source}: `)).toBe(true);
  expect(err.message).toMatch(reason);
  return err;
}

describe("encode/decode round trip", () => {
  it("round-trips several dtypes, a scalar, an empty tensor and metadata", () => {
    const tensors = {
      "layer.weight": f32([2, 3], [0.5, -1.25, 3, 0, 1e-3, Number.NEGATIVE_INFINITY]),
      "layer.bias": f32([3], [1, 2, Number.NaN]),
      step: i32([], [42]),
      ids: i32([2, 2], [-2147483648, -1, 0, 2147483647]),
      mask: bool([4], [1, 0, 0, 1]),
      empty: f32([0, 5], []),
      "empty.int": i32([3, 0], []),
    };
    const metadata = { format: "pt", epoch: "3", note: "ünïcødé ✓" };
    const bytes = encodeSafetensors(tensors, metadata);
    const { tensors: out, metadata: meta } = decodeSafetensors(bytes);

    expect(meta).toEqual(metadata);
    expect([...out.keys()].sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const got = out.get(name);
      expect(got?.dtype).toBe(t.dtype);
      expect(got?.shape).toEqual(t.shape);
      expect(got?.data.constructor).toBe(t.data.constructor);
      expect(Array.from(got?.data ?? [])).toEqual(Array.from(t.data));
    }
    expect(out.get("step")?.shape).toEqual([]);
    expect(out.get("empty")?.data.length).toBe(0);
  });

  it("accepts a Map and no metadata", () => {
    const bytes = encodeSafetensors(new Map([["x", f32([2], [1, 2])]]));
    expect(headerOf(bytes).json).not.toHaveProperty("__metadata__");
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({});
    expect(Array.from(tensors.get("x")?.data ?? [])).toEqual([1, 2]);
  });

  it("writes the layout the reference writes: sorted names, contiguous data, space-padded header", () => {
    const bytes = encodeSafetensors({ c: i32([1], [7]), a: f32([2], [1, 2]), b: bool([3], [1, 1, 0]) }, { k: "v" });
    const { length, text, json } = headerOf(bytes);
    expect(length % 8).toBe(0);
    expect(text).toMatch(/^\{.*\} *$/);
    const names = Object.keys(json).filter((k) => k !== "__metadata__");
    expect(names).toEqual(["a", "b", "c"]);
    expect(json.a).toEqual({ dtype: "F32", shape: [2], data_offsets: [0, 8] });
    expect(json.b).toEqual({ dtype: "BOOL", shape: [3], data_offsets: [8, 11] });
    expect(json.c).toEqual({ dtype: "I32", shape: [1], data_offsets: [11, 15] });
    expect(json.__metadata__).toEqual({ k: "v" });
    expect(bytes.length).toBe(8 + length + 15);
    // Little-endian data at the stated offsets.
    const view = new DataView(bytes.buffer, bytes.byteOffset + 8 + length);
    expect(view.getFloat32(4, true)).toBe(2);
    expect(view.getInt32(11, true)).toBe(7);
  });

  it("decodes from an unaligned view and never aliases the input bytes", () => {
    const bytes = encodeSafetensors({ x: f32([3], [1.5, 2.5, 3.5]), y: i32([2], [-5, 9]) });
    const backing = new Uint8Array(bytes.length + 3);
    backing.set(bytes, 3);
    const { tensors } = decodeSafetensors(backing.subarray(3));
    const x = tensors.get("x")?.data as Float32Array;
    expect(Array.from(x)).toEqual([1.5, 2.5, 3.5]);
    expect(Array.from(tensors.get("y")?.data ?? [])).toEqual([-5, 9]);
    backing.fill(0);
    expect(Array.from(x)).toEqual([1.5, 2.5, 3.5]);
  });

  it("keeps a tensor or metadata key named __proto__", () => {
    const bytes = encodeSafetensors(new Map([["__proto__", f32([1], [5])]]), JSON.parse('{"__proto__":"p"}'));
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Array.from(tensors.get("__proto__")?.data ?? [])).toEqual([5]);
    expect(Object.getOwnPropertyDescriptor(metadata, "__proto__")?.value).toBe("p");
  });

  it("stores bools as 0/1 bytes", () => {
    const bytes = encodeSafetensors({ m: bool([3], [0, 2, 255]) });
    expect(Array.from(decodeSafetensors(bytes).tensors.get("m")?.data ?? [])).toEqual([0, 1, 1]);
  });

  it("refuses bad input on encode", () => {
    expect(() => encodeSafetensors({ x: f32([2, 2], [1, 2, 3]) })).toThrow(/shape \[2,2\] has 4 elements but data has 3/);
    expect(() => encodeSafetensors({ x: { dtype: "float32", shape: [1], data: new Int32Array(1) } })).toThrow(/needs a Float32Array, got Int32Array/);
    expect(() => encodeSafetensors({ x: f32([-1], []) })).toThrow(/shape must be a list of non-negative integers/);
    expect(() => encodeSafetensors({ __metadata__: f32([1], [1]) })).toThrow(/reserved/);
    expect(() => encodeSafetensors({}, { n: 1 as unknown as string })).toThrow(
      /^checkpoint <memory>: metadata value for key "n" must be a string, got number$/,
    );
  });
});

describe("files written by an independent writer", () => {
  it("loads the Python-written reference fixture with the expected values", async () => {
    const file = path.join(fixtures, "reference.safetensors");
    const { tensors, metadata } = await loadSafetensors(file);
    expect(metadata).toEqual({ format: "pt", writer: "make-safetensors-fixture.py" });
    const get = (name: string) => {
      const t = tensors.get(name);
      if (!t) throw new Error(`missing ${name}`);
      return { dtype: t.dtype, shape: t.shape, values: Array.from(t.data) };
    };
    const fr = Math.fround;
    expect(get("weight")).toEqual({ dtype: "float32", shape: [2, 3], values: [0.5, -1.25, 3, 0, fr(1e-3), -7.75] });
    expect(get("double")).toEqual({ dtype: "float32", shape: [3], values: [1.5, -2.25, fr(0.1)] });
    expect(get("steps")).toEqual({ dtype: "int32", shape: [2, 2], values: [-3, 0, 2147483647, -2147483648] });
    expect(get("counts")).toEqual({ dtype: "int32", shape: [3], values: [1, -2, 123456789] });
    expect(get("half")).toEqual({ dtype: "float32", shape: [5], values: [1, -2.5, 65504, 2 ** -14, 2 ** -24] });
    expect(get("brain")).toEqual({ dtype: "float32", shape: [3], values: [1, -3.5, 0.15625] });
    expect(get("short")).toEqual({ dtype: "int32", shape: [2], values: [-32768, 32767] });
    expect(get("tiny")).toEqual({ dtype: "int32", shape: [3], values: [-128, 0, 127] });
    expect(get("bytes")).toEqual({ dtype: "int32", shape: [3], values: [0, 128, 255] });
    expect(get("mask")).toEqual({ dtype: "bool", shape: [2, 2], values: [1, 0, 0, 1] });
    expect(get("scalar")).toEqual({ dtype: "float32", shape: [], values: [7] });
    expect(get("empty")).toEqual({ dtype: "float32", shape: [0, 4], values: [] });
    expect(tensors.size).toBe(12);
  });

  it("loads a Python-written file whose tensors sit at unaligned offsets", async () => {
    const { tensors, metadata } = await loadSafetensors(path.join(fixtures, "unaligned.safetensors"));
    expect(metadata).toEqual({ layout: "unaligned" });
    expect(Array.from(tensors.get("a")?.data ?? [])).toEqual([1, 2, 3]);
    expect(Array.from(tensors.get("b")?.data ?? [])).toEqual([1.5, -0.25]);
    expect(Array.from(tensors.get("c")?.data ?? [])).toEqual([-8.5]);
    expect(Array.from(tensors.get("d")?.data ?? [])).toEqual([-1, 65536]);
    expect(Array.from(tensors.get("e")?.data ?? [])).toEqual([-42]);
  });

  it("converts F16 specials and refuses I64 values outside int32", () => {
    const half = new Uint8Array(new Uint16Array([0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3c00]).buffer);
    const { tensors } = decodeSafetensors(rawFile({ h: { dtype: "F16", shape: [5], data_offsets: [0, 10] } }, half));
    const h = Array.from(tensors.get("h")?.data ?? []);
    expect(h[0]).toBe(Number.POSITIVE_INFINITY);
    expect(h[1]).toBe(Number.NEGATIVE_INFINITY);
    expect(h[2]).toBeNaN();
    expect(Object.is(h[3], -0)).toBe(true);
    expect(h[4]).toBe(1);

    const big = new Uint8Array(new BigInt64Array([1n, 2147483648n]).buffer);
    expectRefused(
      () => decodeSafetensors(rawFile({ big: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, big), "bad.safetensors"),
      /tensor "big": I64 value 2147483648 at flat index 1 does not fit in int32/,
    );
  });
});

describe("corrupted files are refused with the reason", () => {
  const good = encodeSafetensors({ a: f32([2], [1, 2]), b: i32([3], [1, 2, 3]) }, { k: "v" });
  const src = "bad.safetensors";
  const decode = (bytes: Uint8Array) => () => decodeSafetensors(bytes, src);

  it("truncated data", () => {
    expectRefused(decode(good.subarray(0, good.length - 5)), /truncated data: header describes 20 bytes .* only 15 are present/);
  });

  it("truncated header, too-short file, absurd header length", () => {
    expectRefused(decode(good.subarray(0, 20)), /truncated header: header length is \d+ bytes but only 12 bytes follow/);
    expectRefused(decode(good.subarray(0, 5)), /file is 5 bytes, too short for the 8-byte header length/);
    const absurd = good.slice();
    new DataView(absurd.buffer).setBigUint64(0, 1n << 40n, true);
    expectRefused(decode(absurd), /header length 1099511627776 is over the 100000000-byte limit/);
  });

  it("bad JSON, non-object header, non-UTF-8 header", () => {
    expectRefused(decode(rawFile('{"a": {"dtype": "F32",')), /header is not valid JSON/);
    expectRefused(decode(rawFile("[1, 2]")), /header must be a JSON object, got an array/);
    const notUtf8 = rawFile('{"a":1}');
    notUtf8[10] = 0xff;
    expectRefused(decode(notUtf8), /header is not valid UTF-8/);
  });

  it("bad data_offsets", () => {
    const data = new Uint8Array(8);
    expectRefused(
      decode(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [0, 7] } }, data)),
      /tensor "a": data_offsets \[0,7\] span 7 bytes but F32 shape \[2\] needs 8/,
    );
    expectRefused(decode(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [8] } }, data)), /data_offsets must be \[begin, end\]/);
    expectRefused(decode(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [8, 0] } }, data)), /data_offsets must be \[begin, end\]/);
    expectRefused(decode(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [-8, 0] } }, data)), /data_offsets must be/);
    expectRefused(decode(rawFile({ a: { dtype: "F32", shape: [2] } }, data)), /data_offsets must be/);
    // Out of the buffer.
    expectRefused(
      decode(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [8, 16] } }, data)),
      /truncated data: header describes 16 bytes .* only 8 are present/,
    );
  });

  it("overlapping tensors, holes and trailing bytes", () => {
    const data = new Uint8Array(12);
    expectRefused(
      decode(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } }, data)),
      /tensors "a" \[0,8\] and "b" \[4,12\] overlap/,
    );
    expectRefused(
      decode(rawFile({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, b: { dtype: "F32", shape: [1], data_offsets: [8, 12] } }, data)),
      /hole in the data buffer: bytes \[4,8\)/,
    );
    expectRefused(decode(rawFile({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8))), /hole/);
    expectRefused(decode(rawFile({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, data)), /4 trailing bytes after the last tensor/);
  });

  it("wrong dtype and bad shapes", () => {
    const data = new Uint8Array(8);
    expectRefused(decode(rawFile({ a: { dtype: "F128", shape: [1], data_offsets: [0, 8] } }, data)), /tensor "a": unsupported dtype "F128"/);
    expectRefused(decode(rawFile({ a: { dtype: "U32", shape: [2], data_offsets: [0, 8] } }, data)), /unsupported dtype "U32"/);
    expectRefused(decode(rawFile({ a: { shape: [2], data_offsets: [0, 8] } }, data)), /unsupported dtype undefined/);
    for (const shape of [[-2], [1.5], "2", [null]]) {
      expectRefused(decode(rawFile({ a: { dtype: "F32", shape, data_offsets: [0, 8] } }, data)), /shape must be a list of non-negative integers/);
    }
    expectRefused(decode(rawFile({ a: [1, 2] }, data)), /tensor "a": header entry must be an object/);
  });

  it("non-string metadata values", () => {
    expectRefused(decode(rawFile({ __metadata__: { epoch: 3 } })), /metadata value for key "epoch" must be a string, got number/);
    expectRefused(decode(rawFile({ __metadata__: ["x"] })), /__metadata__ must be an object of strings/);
  });

  it("prefixes the file path when loading from disk", async () => {
    const dir = tempDir();
    const file = path.join(dir, "model.safetensors");
    fs.writeFileSync(file, good.subarray(0, good.length - 1));
    const err = await loadSafetensors(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toMatch(new RegExp(`^checkpoint ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: truncated data`));
    const missing = await loadSafetensors(path.join(dir, "nope.safetensors")).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/^checkpoint .*nope\.safetensors: cannot read file: .*ENOENT/);
  });
});

describe("atomic writes", () => {
  it("saves and loads a checkpoint, replacing an existing file", async () => {
    const dir = tempDir();
    const file = path.join(dir, "ckpt.safetensors");
    await saveSafetensors(file, { w: f32([2], [1, 2]) }, { v: "1" });
    await saveSafetensors(file, { w: f32([3], [3, 4, 5]), n: i32([], [9]) }, { v: "2" });
    const { tensors, metadata } = await loadSafetensors(file);
    expect(metadata).toEqual({ v: "2" });
    expect(Array.from(tensors.get("w")?.data ?? [])).toEqual([3, 4, 5]);
    expect(tensors.get("n")?.shape).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual(["ckpt.safetensors"]);
  });

  it("writes through a temp file in the same directory whose name has the pid", async () => {
    const dir = tempDir();
    const file = path.join(dir, "out.txt");
    fs.writeFileSync(file, "old");
    let seen = "";
    await writeFileAtomic(file, "new", {
      beforeRename: (temp) => {
        seen = temp;
        expect(path.dirname(temp)).toBe(dir);
        expect(fs.readFileSync(temp, "utf8")).toBe("new");
        expect(fs.readFileSync(file, "utf8")).toBe("old");
      },
    });
    expect(path.basename(seen)).toContain(String(process.pid));
    expect(fs.readFileSync(file, "utf8")).toBe("new");
    expect(tempFiles(dir)).toEqual([]);
  });

  it("a failure while writing leaves the old file intact and no temp file", async () => {
    const dir = tempDir();
    const file = path.join(dir, "out.bin");
    fs.writeFileSync(file, "old contents");
    // Data the write itself rejects (after the temp file was created).
    await expect(writeFileAtomic(file, 12345 as unknown as Uint8Array)).rejects.toThrow();
    expect(fs.readFileSync(file, "utf8")).toBe("old contents");
    expect(tempFiles(dir)).toEqual([]);
  });

  it("a failure between write and rename leaves the old file intact and no temp file", async () => {
    // Injected through the test hook: the temp file is fully written and fsynced, then the "crash".
    const dir = tempDir();
    const file = path.join(dir, "out.bin");
    fs.writeFileSync(file, "old contents");
    await expect(
      writeFileAtomic(file, new Uint8Array(1024).fill(7), {
        beforeRename: () => {
          throw new Error("injected failure");
        },
      }),
    ).rejects.toThrow("injected failure");
    expect(fs.readFileSync(file, "utf8")).toBe("old contents");
    expect(tempFiles(dir)).toEqual([]);
  });

  it("a missing directory fails cleanly", async () => {
    const dir = tempDir();
    const file = path.join(dir, "no-such-dir", "ckpt.safetensors");
    await expect(writeFileAtomic(file, "x")).rejects.toThrow(/ENOENT/);
    await expect(saveSafetensors(file, { w: f32([1], [1]) })).rejects.toThrow(/^checkpoint .*ckpt\.safetensors: cannot write file: .*ENOENT/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("a process SIGKILLed in the middle of a save loop never leaves a corrupt checkpoint", async () => {
    // The child is plain Node (no TS loader is available), so bundle the real sources
    // (safetensors-file.ts, safetensors.ts, atomic-write.ts) to one ESM file with esbuild, the bundler vitest already uses.
    const dir = tempDir();
    const esbuild = await import("esbuild");
    const bundled = path.join(dir, "checkpoint.mjs");
    await esbuild.build({
      entryPoints: [path.join(here, "..", "src", "checkpoint", "safetensors-file.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: bundled,
      logLevel: "silent",
    });
    const workDir = path.join(dir, "ckpt");
    fs.mkdirSync(workDir);
    const target = path.join(workDir, "model.safetensors");
    const n = 5_000_000;
    await saveSafetensors(target, { w: { dtype: "float32", shape: [n], data: new Float32Array(n) } }, { iteration: "0" });

    const check = async () => {
      const { tensors, metadata } = await loadSafetensors(target); // throws if corrupt
      const iteration = Number(metadata.iteration);
      const w = tensors.get("w")?.data as Float32Array;
      expect(w.length).toBe(n);
      expect(w.every((v) => v === iteration)).toBe(true);
      return iteration;
    };

    let killedMidWrite = 0;
    for (let round = 0; round < 6; round++) {
      const before = new Set(tempFiles(workDir));
      const stall = round % 2 === 1;
      const child: ChildProcess = spawn(process.execPath, [path.join(fixtures, "atomic-writer-child.mjs"), bundled, target, ...(stall ? ["stall"] : [])], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code)));
      // the deadline only ends a broken run; saves take milliseconds
      const deadline = Date.now() + 120_000;
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const alive = () => child.exitCode === null && child.signalCode === null;
      if (!stall) {
        // Kill at an arbitrary moment after one to three completed saves.
        const saves = 1 + round / 2;
        while (alive() && Date.now() < deadline && !out.includes(`saved ${saves}\n`)) await sleep(2);
        await sleep(Math.floor(Math.random() * 60));
      } else {
        // Kill between writing the temp file and renaming it: the child holds still there.
        while (alive() && Date.now() < deadline && !out.includes("renaming 2\n")) await sleep(2);
      }
      expect(alive(), `child exited early: ${err}`).toBe(true);
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      const abandoned = tempFiles(workDir).some((f) => !before.has(f));
      if (stall) expect(abandoned, "a stalled save leaves its temp file").toBe(true);
      if (abandoned) killedMidWrite++;
      await check();
    }
    // Kills did land mid-save (a temp file was abandoned, in every stalled round at least), and
    // the target survived every one.
    expect(killedMidWrite).toBeGreaterThanOrEqual(3);
  }, 300_000);
});
