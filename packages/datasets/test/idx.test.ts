import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetError } from "../src/errors.js";
import { type IdxData, type IdxDType, IdxDecoder, decodeIdx, encodeIdx, idxMagic, readIdx, writeIdx } from "../src/index.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "tessera-idx-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Deterministic test values that exercise sign, fraction and range for each dtype. */
function sample(dtype: IdxDType, n: number): IdxData {
  const v = (i: number) => ((i * 7919) % 2003) - 1001;
  switch (dtype) {
    case "uint8":
      return Uint8Array.from({ length: n }, (_, i) => (i * 37) & 255);
    case "int8":
      return Int8Array.from({ length: n }, (_, i) => ((i * 37) & 255) - 128);
    case "int16":
      return Int16Array.from({ length: n }, (_, i) => v(i) * 31);
    case "int32":
      return Int32Array.from({ length: n }, (_, i) => v(i) * 2_000_003);
    case "float32":
      return Float32Array.from({ length: n }, (_, i) => v(i) / 7);
    case "float64":
      return Float64Array.from({ length: n }, (_, i) => v(i) / 7 + 1e-12 * i);
  }
}

const DTYPES: IdxDType[] = ["uint8", "int8", "int16", "int32", "float32", "float64"];
const SHAPES: number[][] = [[5], [3, 4], [2, 3, 4], [2, 1, 3, 2, 2], [0, 28, 28]];
const CODES: Record<IdxDType, number> = {
  uint8: 0x08,
  int8: 0x09,
  int16: 0x0b,
  int32: 0x0c,
  float32: 0x0d,
  float64: 0x0e,
};

async function refused(p: Promise<unknown>, ...patterns: RegExp[]): Promise<DatasetError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  for (const re of patterns) expect((err as Error).message).toMatch(re);
  return err as DatasetError;
}

describe("encodeIdx", () => {
  it("writes the big-endian header and elements the format defines", () => {
    const bytes = encodeIdx({ data: Int16Array.from([1, -2, 258]), shape: [3] });
    expect(Array.from(bytes)).toEqual([0, 0, 0x0b, 1, 0, 0, 0, 3, 0x00, 0x01, 0xff, 0xfe, 0x01, 0x02]);
    const f = encodeIdx({ data: [1.5], dtype: "float32" });
    expect(Array.from(f.subarray(8))).toEqual([0x3f, 0xc0, 0, 0]);
    const d = encodeIdx({ data: [1.5], dtype: "float64" });
    expect(Array.from(d.subarray(8))).toEqual([0x3f, 0xf8, 0, 0, 0, 0, 0, 0]);
  });

  it("uses the magic numbers of MNIST", () => {
    expect(idxMagic("uint8", 3)).toBe(0x00000803);
    expect(idxMagic("uint8", 1)).toBe(0x00000801);
    for (const t of DTYPES) expect(encodeIdx({ data: sample(t, 2) })[2]).toBe(CODES[t]);
  });

  it("refuses a shape that does not match the data", () => {
    expect(() => encodeIdx({ data: new Uint8Array(5), shape: [2, 3] })).toThrow(DatasetError);
    expect(() => encodeIdx({ data: [1, 2] })).toThrow(/dtype/);
  });
});

describe("readIdx / writeIdx round trip", () => {
  for (const dtype of DTYPES) {
    for (const shape of SHAPES) {
      for (const gzip of [false, true]) {
        it(`${dtype} [${shape.join(",")}] ${gzip ? "gzip" : "plain"}`, async () => {
          const n = shape.reduce((a, b) => a * b, 1);
          const data = sample(dtype, n);
          const path = join(dir, `rt-${dtype}-${shape.join("x")}${gzip ? ".gz" : ""}`);
          await writeIdx(path, { data, shape });
          const back = await readIdx(path);
          expect(back.dtype).toBe(dtype);
          expect(back.shape).toEqual(shape);
          expect(back.data.constructor).toBe(data.constructor);
          expect(Array.from(back.data)).toEqual(Array.from(data));
          // The in-memory decoder agrees.
          const mem = decodeIdx(encodeIdx({ data, shape }));
          expect(Array.from(mem.data)).toEqual(Array.from(data));
        });
      }
    }
  }

  it("detects gzip by content, not by name", async () => {
    const data = sample("int32", 12);
    const gzNoExt = join(dir, "gzip-without-extension");
    const plainWithGz = join(dir, "plain-with-extension.gz");
    await writeIdx(gzNoExt, { data, shape: [3, 4] }, { gzip: true });
    await writeIdx(plainWithGz, { data, shape: [3, 4] }, { gzip: false });
    expect(Array.from((await readIdx(gzNoExt)).data)).toEqual(Array.from(data));
    expect(Array.from((await readIdx(plainWithGz)).data)).toEqual(Array.from(data));
  });

  it("streams files larger than one read chunk (plain and gzip)", async () => {
    const shape = [700, 64, 64]; // 2.8 M bytes as uint8, 11 MB as float32
    const n = 700 * 64 * 64;
    for (const dtype of ["uint8", "float32"] as const) {
      const data = sample(dtype, n);
      for (const ext of ["", ".gz"]) {
        const path = join(dir, `big-${dtype}${ext}`);
        await writeIdx(path, { data, shape });
        const back = await readIdx(path);
        expect(back.shape).toEqual(shape);
        expect(back.data.length).toBe(n);
        expect(Buffer.from(back.data.buffer).equals(Buffer.from(data.buffer))).toBe(true);
      }
    }
  });

  it("decodes any chunking of the bytes", () => {
    const data = sample("float64", 24);
    const bytes = encodeIdx({ data, shape: [2, 3, 4] });
    for (const step of [1, 3, 5, 17]) {
      const dec = new IdxDecoder("chunks");
      for (let i = 0; i < bytes.length; i += step) dec.push(bytes.subarray(i, i + step));
      expect(Array.from(dec.finish().data)).toEqual(Array.from(data));
    }
  });

  it("checks an expected dtype and dimension count", async () => {
    const path = join(dir, "expect-labels");
    await writeIdx(path, { data: new Uint8Array(4) });
    expect((await readIdx(path, { dtype: "uint8", ndim: 1 })).shape).toEqual([4]);
  });
});

describe("bad input is refused with a DatasetError naming the file", () => {
  it("a missing file", async () => {
    const path = join(dir, "does-not-exist");
    const err = await refused(readIdx(path), /does-not-exist/, /file not found/);
    expect(err.file).toBe(path);
  });

  it("a directory", async () => {
    await refused(readIdx(dir), /not a regular file|directory/);
  });

  it("a wrong magic number", async () => {
    const path = join(dir, "images-not-labels");
    await writeIdx(path, { data: new Uint8Array(2 * 4), shape: [2, 2, 2] });
    await refused(readIdx(path, { dtype: "uint8", ndim: 1 }), /images-not-labels/, /wrong magic number 0x00000803/, /expected 0x00000801/);
    await refused(readIdx(path, { dtype: "float32" }), /wrong magic number 0x00000803.*expected 0x00000d03/);
  });

  it("an unknown type code", async () => {
    const path = join(dir, "bad-type");
    await writeFile(path, Uint8Array.from([0, 0, 0x0a, 1, 0, 0, 0, 1, 7]));
    await refused(readIdx(path), /bad-type/, /unknown type code 0x0a/);
  });

  it("zero dimensions", async () => {
    const path = join(dir, "zero-dims");
    await writeFile(path, Uint8Array.from([0, 0, 8, 0, 1]));
    await refused(readIdx(path), /zero-dims/, /0 dimensions/);
  });

  for (const gzip of [false, true]) {
    const kind = gzip ? "gzip" : "plain";
    it(`a header that promises more data than the file holds (${kind})`, async () => {
      const full = encodeIdx({ data: new Uint8Array(100), shape: [4, 5, 5] });
      const cut = full.subarray(0, full.length - 10);
      const path = join(dir, `truncated-${kind}`);
      await writeFile(path, gzip ? gzipSync(cut) : cut);
      await refused(readIdx(path), new RegExp(`truncated-${kind}`), /truncated/, /100 bytes of data/, /only 90/);
    });

    it(`data beyond what the header describes (${kind})`, async () => {
      const full = encodeIdx({ data: new Uint8Array(8), shape: [8] });
      const more = new Uint8Array(full.length + 3);
      more.set(full);
      const path = join(dir, `trailing-${kind}`);
      await writeFile(path, gzip ? gzipSync(more) : more);
      await refused(readIdx(path), new RegExp(`trailing-${kind}`), /more data than its header describes/);
    });

    it(`a non-IDX file (${kind})`, async () => {
      const text = new TextEncoder().encode("label,pixel0,pixel1\n5,0,0\n");
      const path = join(dir, `not-idx-${kind}.csv`);
      await writeFile(path, gzip ? gzipSync(text) : text);
      await refused(readIdx(path), new RegExp(`not-idx-${kind}`), /not an IDX file/);
    });

    it(`an empty or too short file (${kind})`, async () => {
      const path = join(dir, `short-${kind}`);
      await writeFile(path, gzip ? gzipSync(new Uint8Array(0)) : new Uint8Array(0));
      await refused(readIdx(path), /short-/, /empty/);
      await writeFile(path, Uint8Array.from([0, 0, 8, 2, 0, 0]));
      await refused(readIdx(path), /short-/, /too short/);
    });
  }

  it("a gzip header that promises far more than the compressed file can hold", async () => {
    // A header promising 4 G elements, gzip-compressed into a few dozen bytes: refused before allocating.
    const header = Uint8Array.from([0, 0, 8, 1, 0xff, 0xff, 0xff, 0xff]);
    const path = join(dir, "gzip-huge-promise");
    await writeFile(path, gzipSync(header));
    await refused(readIdx(path), /gzip-huge-promise/, /truncated/, /more than a \d+-byte gzip file can hold/);
  });

  it("a truncated gzip stream", async () => {
    const gz = gzipSync(encodeIdx({ data: sample("int32", 5000) }));
    const path = join(dir, "gzip-cut");
    await writeFile(path, gz.subarray(0, gz.length >> 1));
    await refused(readIdx(path), /gzip-cut/, /truncated/);
  });

  it("corrupt gzip data", async () => {
    const gz = gzipSync(encodeIdx({ data: sample("int32", 5000) }));
    const bad = Uint8Array.from(gz);
    for (let i = 20; i < 60; i++) bad[i] = 0xff;
    const path = join(dir, "gzip-corrupt");
    await writeFile(path, bad);
    await refused(readIdx(path), /gzip-corrupt/, /gzip/);
  });

  it("decodeIdx names its buffer", () => {
    expect(() => decodeIdx(new Uint8Array([1, 2, 3, 4, 5]), "mem.idx")).toThrow(/mem\.idx: not an IDX file/);
  });
});
