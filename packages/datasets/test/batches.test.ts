import "@tessera/backend-cpu";
import { RandomState, type Tensor, memory } from "@tessera/tensor";
import { beforeAll, describe, expect, it } from "vitest";
import { Batches, batches, splitTensors } from "../src/batches.js";
import { DatasetError } from "../src/errors.js";
import { ImageSplit, type Mnist, loadMnist } from "../src/index.js";

/** A split of `n` 2x3 images whose pixels are (image index + pixel index) bytes and whose label is the index. */
function indexed(n: number): ImageSplit {
  const images = Uint8Array.from({ length: n * 6 }, (_, i) => (Math.floor(i / 6) * 10 + (i % 6)) & 255);
  const labels = Int32Array.from({ length: n }, (_, i) => i);
  return new ImageSplit("indexed", images, labels, 2, 3);
}

/** The image indices of a batch, read back from its labels; checks its pixels agree. */
function indicesOf(split: ImageSplit, b: { x: Tensor; y: Tensor }): number[] {
  const ys = Array.from(b.y.dataSync() as Int32Array);
  const xs = b.x.dataSync() as Float32Array;
  expect(Array.from(xs)).toEqual(Array.from(split.gatherFloat32(ys)));
  return ys;
}

function dispose(b: { x: Tensor; y: Tensor }): void {
  b.x.dispose();
  b.y.dispose();
}

describe("Batches", () => {
  const split = indexed(23);

  it("yields [B,1,H,W] float32 and [B] int32 batches in order, keeping the last", () => {
    const it5 = batches(split, { batchSize: 5 });
    expect(it5.length).toBe(5);
    const sizes: number[] = [];
    const seen: number[] = [];
    for (const b of it5) {
      expect(b.x.dtype).toBe("float32");
      expect(b.y.dtype).toBe("int32");
      expect(b.x.shape).toEqual([b.y.shape[0], 1, 2, 3]);
      sizes.push(b.y.shape[0]);
      seen.push(...indicesOf(split, b));
      dispose(b);
    }
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it("pixels are byte / 255", () => {
    const b = batches(split, { batchSize: 2 }).batch(1);
    const x = b.x.dataSync() as Float32Array;
    expect(x[0]).toBe(Math.fround(20 / 255));
    expect(x[7]).toBe(Math.fround(31 / 255));
    dispose(b);
  });

  it("drops the last, smaller batch on request", () => {
    const it5 = batches(split, { batchSize: 5, dropLast: true });
    expect(it5.length).toBe(4);
    const sizes: number[] = [];
    for (const b of it5) {
      sizes.push(b.y.shape[0]);
      dispose(b);
    }
    expect(sizes).toEqual([5, 5, 5, 5]);
    const even = batches(indexed(20), { batchSize: 5, dropLast: true });
    expect(even.length).toBe(4);
  });

  it("shuffles with a seeded RandomState, a new permutation each epoch", () => {
    const seed = 1234;
    const ref = new RandomState(seed);
    const expected1 = Array.from(ref.permutation(23));
    const expected2 = Array.from(ref.permutation(23));
    expect(expected1).not.toEqual(expected2);
    const sh = batches(split, { batchSize: 4, shuffle: true, seed });
    const epoch = () => {
      const order: number[] = [];
      for (const b of sh) {
        order.push(...indicesOf(split, b));
        dispose(b);
      }
      return order;
    };
    expect(epoch()).toEqual(expected1);
    expect(epoch()).toEqual(expected2);
    expect(sh.epoch).toBe(2);
    // The same seed gives the same epochs; a given generator is drawn from.
    const again = batches(split, { batchSize: 4, shuffle: true, seed: new RandomState(seed) });
    const first: number[] = [];
    for (const b of again) {
      first.push(...Array.from(b.y.dataSync() as Int32Array));
      dispose(b);
    }
    expect(first).toEqual(expected1);
  });

  it("shuffled with dropLast: every epoch a permutation prefix of whole batches", () => {
    const sh = batches(split, { batchSize: 4, shuffle: true, seed: 7, dropLast: true });
    const order: number[] = [];
    for (const b of sh) {
      order.push(...indicesOf(split, b));
      dispose(b);
    }
    expect(order.length).toBe(20);
    expect(new Set(order).size).toBe(20);
    expect(order).toEqual(Array.from(new RandomState(7).permutation(23)).slice(0, 20));
  });

  it("works with for await", async () => {
    const seen: number[] = [];
    for await (const b of batches(split, { batchSize: 10 })) {
      seen.push(...indicesOf(split, b));
      dispose(b);
    }
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it("gives random access with batch(i), in file order", () => {
    const bs = batches(split, { batchSize: 5, shuffle: true, seed: 3 });
    const b = bs.batch(4);
    expect(Array.from(b.y.dataSync() as Int32Array)).toEqual([20, 21, 22]);
    expect(b.x.shape).toEqual([3, 1, 2, 3]);
    dispose(b);
    expect(() => bs.batch(5)).toThrow(RangeError);
    expect(() => bs.batch(-1)).toThrow(RangeError);
  });

  it("gives a whole split as tensors", async () => {
    const { x, y } = splitTensors(split);
    expect(x.shape).toEqual([23, 1, 2, 3]);
    expect(y.shape).toEqual([23]);
    expect(Array.from((await x.data()) as Float32Array)).toEqual(Array.from(split.rangeToFloat32(0, 23)));
    expect(Array.from((await y.data()) as Int32Array)).toEqual(Array.from(split.labels));
    x.dispose();
    y.dispose();
  });

  it("uses float32 pixels converted once the same way", () => {
    const a = batches(split, { batchSize: 7, shuffle: true, seed: 9 });
    const b = batches(split.toFloat32(), { batchSize: 7, shuffle: true, seed: 9 });
    const ia = a[Symbol.iterator]();
    const ib = b[Symbol.iterator]();
    for (let r = ia.next(), s = ib.next(); !r.done && !s.done; r = ia.next(), s = ib.next()) {
      expect(Array.from(r.value.x.dataSync())).toEqual(Array.from(s.value.x.dataSync()));
      dispose(r.value);
      dispose(s.value);
    }
  });

  it("refuses a bad batch size", () => {
    expect(() => new Batches(split, { batchSize: 0 })).toThrow(DatasetError);
    expect(() => new Batches(split, { batchSize: 2.5 })).toThrow(DatasetError);
  });

  it("an empty split has no batches", () => {
    const empty = indexed(0);
    const bs = batches(empty, { batchSize: 4, shuffle: true });
    expect(bs.length).toBe(0);
    expect([...bs]).toEqual([]);
  });

  it("leaks no tensors across epochs when the consumer disposes each batch", async () => {
    const start = memory().tensors;
    const sh = batches(split, { batchSize: 4, shuffle: true, seed: 5 });
    for (let e = 0; e < 3; e++) {
      for (const b of sh) {
        expect(memory().tensors).toBe(start + 2);
        dispose(b);
      }
      expect(memory().tensors).toBe(start);
    }
    for await (const b of batches(split, { batchSize: 6 })) dispose(b);
    // Breaking out early leaves nothing behind either: batches are made on demand.
    for (const b of sh) {
      dispose(b);
      break;
    }
    expect(memory().tensors).toBe(start);
  });
});

describe("Batches of the real MNIST", () => {
  let mnist: Mnist;
  beforeAll(async () => {
    mnist = await loadMnist();
  });

  it("the tutorial's setting: 100 in-order batches of 500, first labels 5 0 4 1 9 2 1 3 1 4", () => {
    const start = memory().tensors;
    const train = batches(mnist.train, { batchSize: 500 });
    expect(train.length).toBe(100);
    let n = 0;
    let first = true;
    let sum = 0;
    for (const { x, y } of train) {
      expect(x.shape).toEqual([500, 1, 28, 28]);
      if (first) {
        expect(Array.from((y.dataSync() as Int32Array).subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
        first = false;
      }
      const xs = x.dataSync() as Float32Array;
      for (let i = 0; i < xs.length; i++) sum += xs[i];
      n += y.shape[0];
      x.dispose();
      y.dispose();
    }
    expect(n).toBe(50_000);
    expect(sum / (n * 784)).toBeCloseTo(0.1307, 2);
    expect(memory().tensors).toBe(start);
  });

  it("test batch(0) starts 7 2 1 0 4 1 4 9 5 9", () => {
    const { x, y } = batches(mnist.test, { batchSize: 20 }).batch(0);
    expect(Array.from(y.dataSync() as Int32Array).slice(0, 10)).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(x.shape).toEqual([20, 1, 28, 28]);
    x.dispose();
    y.dispose();
  });
});
