/**
 * The IDX readers take untrusted files: mutated real MNIST files (truncated, with flipped bytes,
 * with huge declared sizes and dimension counts, with trailing data; plain and gzip) must give a
 * DatasetError or a correct array, never another error, a hang, or an allocation far beyond the
 * file. Every mutation comes from a fixed seed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { RandomState } from "@tessera/tensor";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetError, IdxDecoder, decodeIdx, defaultMnistDir, readIdx } from "../src/index.js";

/** The real MNIST test labels (10,008 bytes) and the header and first 12 images of the real test images. */
function realFiles(): Array<[string, Uint8Array]> {
  const labels = readFileSync(join(defaultMnistDir(), "t10k-labels-idx1-ubyte"));
  const images = readFileSync(join(defaultMnistDir(), "t10k-images-idx3-ubyte")).subarray(0, 16 + 12 * 784);
  const fewImages = new Uint8Array(images);
  new DataView(fewImages.buffer).setUint32(4, 12); // the header's image count, for the 12 kept
  return [
    ["t10k-labels-idx1-ubyte", new Uint8Array(labels)],
    ["t10k-images-idx3-ubyte (12 images)", fewImages],
  ];
}

/** Deterministic mutations of `file`: truncations, flipped bytes, forged header fields, trailing data. */
function mutations(file: Uint8Array, rng: RandomState, count: number): Array<[string, Uint8Array]> {
  const out: Array<[string, Uint8Array]> = [];
  const int = (n: number) => Math.floor(rng.randomSample() * n);
  const ndim = file[3]!;
  const forge = (what: string, edit: (v: DataView, b: Uint8Array) => void) => {
    const b = new Uint8Array(file);
    edit(new DataView(b.buffer), b);
    out.push([what, b]);
  };
  for (const at of [0, 1, 3, 4, 7, 4 + 4 * ndim - 1, 4 + 4 * ndim, 4 + 4 * ndim + 1, file.length - 1]) out.push([`truncated at ${at}`, file.slice(0, at)]);
  for (const size of [0xffffffff, 0x7fffffff, 0x10000000, 1 << 24, 0]) {
    for (let d = 0; d < ndim; d++) forge(`dimension ${d} set to ${size}`, (v) => v.setUint32(4 + 4 * d, size));
  }
  forge("every dimension 0xffffffff", (v) => {
    for (let d = 0; d < ndim; d++) v.setUint32(4 + 4 * d, 0xffffffff);
  });
  for (const n of [0, 2, 3, 200, 255]) forge(`ndim byte ${n}`, (_, b) => (b[3] = n));
  for (const code of [0x00, 0x07, 0x0a, 0x0c, 0x0e, 0xff]) forge(`type code 0x${code.toString(16)}`, (_, b) => (b[2] = code));
  out.push(["trailing bytes", Uint8Array.from([...file, 1, 2, 3])]);
  while (out.length < count) {
    const kind = int(3);
    if (kind === 0) out.push([`random truncation`, file.slice(0, int(file.length))]);
    else {
      const b = new Uint8Array(file);
      const flips = 1 + int(8);
      // half the flips land in the header, where they matter most
      for (let i = 0; i < flips; i++) b[int(2) === 0 ? int(4 + 4 * ndim) : int(b.length)]! ^= 1 + int(255);
      out.push([`${flips} flipped bytes`, b]);
    }
  }
  return out;
}

/** Decodes `bytes` and checks the outcome: a DatasetError, or an array its header describes. */
function checkDecode(name: string, bytes: Uint8Array): "ok" | "refused" {
  try {
    const arr = decodeIdx(bytes, name);
    const count = arr.shape.reduce((a, b) => a * b, 1);
    expect(arr.data.length, name).toBe(count);
    return "ok";
  } catch (e) {
    if (!(e instanceof DatasetError)) throw new Error(`${name}: expected a DatasetError, got ${String(e)}`);
    expect(e.message.startsWith(`${name}: `), name).toBe(true);
    return "refused";
  }
}

/** Feeds `plain` to a streaming decoder (as readIdx does for gzip) and checks what it allocated. */
function checkStreaming(name: string, plain: Uint8Array, rng: RandomState): void {
  const decoder = new IdxDecoder(name);
  let received = 0;
  try {
    for (let pos = 0; pos < plain.length; ) {
      const n = 1 + Math.floor(rng.randomSample() * 3000);
      decoder.push(plain.subarray(pos, pos + n));
      pos += n;
      received = Math.min(pos, plain.length);
      // Grown only as data arrives: at most twice what came, or the first 64 KiB.
      expect(decoder.allocatedBytes, `${name}: allocated after ${received} bytes`).toBeLessThanOrEqual(Math.max(2 * received, 1 << 16));
    }
    decoder.finish();
  } catch (e) {
    if (!(e instanceof DatasetError)) throw new Error(`${name}: expected a DatasetError, got ${String(e)}`);
  }
  expect(decoder.allocatedBytes, `${name}: allocated`).toBeLessThanOrEqual(Math.max(2 * plain.length, 1 << 16));
}

describe("IDX parsers fuzzed with mutated real files", () => {
  const files = realFiles();
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tessera-idx-fuzz-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const [fileName, file] of files) {
    it(`${fileName}: decodeIdx refuses each plain mutation with a DatasetError or decodes it exactly`, () => {
      const cases = mutations(file, new RandomState(16), 300);
      const outcomes = cases.map(([what, bytes]) => checkDecode(`${fileName} (${what})`, bytes));
      expect(outcomes.filter((o) => o === "refused").length).toBeGreaterThan(cases.length / 2);
      // A flip in the data, not the header, still decodes: the same length, other values.
      expect(outcomes).toContain("ok");
    });

    it(`${fileName}: the streaming decoder allocates only as data arrives, whatever the header promises`, () => {
      const rng = new RandomState(17);
      for (const [what, bytes] of mutations(file, new RandomState(18), 200)) checkStreaming(`${fileName} (${what})`, bytes, rng);
    });

    it(`${fileName}: gzip, mutated before and after compression, through decodeIdx and readIdx`, async () => {
      const gz = gzipSync(file);
      const cases: Array<[string, Uint8Array]> = [
        ...mutations(file, new RandomState(20), 60).map(([w, b]): [string, Uint8Array] => [`${w}, then gzip`, gzipSync(b)]),
        ...mutations(gz, new RandomState(21), 120)
          .filter(([, b]) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b)
          .map(([w, b]): [string, Uint8Array] => [`gzip, then ${w}`, b]),
      ];
      for (const [what, bytes] of cases) checkDecode(`${fileName} (${what})`, bytes);
      // readIdx streams gzip through the decoder: the same refusals, from files
      for (const [i, [what, bytes]] of cases.filter((_, i) => i % 6 === 0).entries()) {
        const path = join(dir, `case-${i}.gz`);
        await writeFile(path, bytes);
        try {
          await readIdx(path);
        } catch (e) {
          if (!(e instanceof DatasetError)) throw new Error(`${what}: readIdx: expected a DatasetError, got ${String(e)}`);
          expect(e.file).toBe(path);
        }
      }
    });
  }

  it("a tiny gzip file whose header declares gigabytes is refused without allocating them", () => {
    const header = new Uint8Array(16);
    const v = new DataView(header.buffer);
    v.setUint32(0, 0x00000803);
    v.setUint32(4, 60000);
    v.setUint32(8, 2000);
    v.setUint32(12, 2000); // 240 GB of pixels
    const bomb = gzipSync(Uint8Array.from([...header, ...new Uint8Array(1 << 20)])); // 1 MiB of zeros: ~1 KiB compressed
    expect(() => decodeIdx(bomb, "bomb.gz")).toThrow(
      /^bomb\.gz: truncated: header promises shape \[60000,2000,2000\] of uint8 = 240000000000 bytes of data, but the file holds only 1048576/,
    );
    const decoder = new IdxDecoder("bomb");
    decoder.push(header);
    decoder.push(new Uint8Array(1 << 20));
    expect(decoder.allocatedBytes).toBeLessThanOrEqual(2 << 20);
    expect(() => decoder.finish()).toThrow(/truncated/);
  });
});
