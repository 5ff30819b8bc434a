import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from "../src/kernels/conv.js";
import { Arena, type ConvGeometry, createSharedMemory, createWasmKernels, type Shape4, type WasmKernels } from "../src/wasm/index.js";
import { bitDifferences, fillRandom } from "./helpers.js";

/** Largest |x - ref| relative to the largest |ref| (float32 sums against float64 ones). */
function relativeError(x: Float32Array, ref: Float32Array): number {
  let err = 0;
  let scale = 1e-30;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(x[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return err / scale;
}

interface Case {
  name: string;
  x: Shape4;
  w: Shape4;
  p: Required<ConvGeometry>;
}

function geometry(stride = 1, padding = 0, dilation = 1, groups = 1): Required<ConvGeometry> {
  return { stride: [stride, stride], padding: [padding, padding], dilation: [dilation, dilation], groups };
}

const CASES: Case[] = [
  { name: "LeNet conv1, 6 images", x: [6, 1, 28, 28], w: [20, 1, 5, 5], p: geometry() },
  { name: "LeNet conv2, 5 images", x: [5, 20, 12, 12], w: [50, 20, 5, 5], p: geometry() },
  { name: "stride 2, padding 1, ragged panels", x: [3, 3, 7, 6], w: [4, 3, 3, 3], p: geometry(2, 1) },
  { name: "groups 2, dilation 2, asymmetric", x: [2, 4, 9, 9], w: [4, 2, 3, 2], p: { stride: [1, 2], padding: [2, 0], dilation: [2, 1], groups: 2 } },
  { name: "1x1 kernel", x: [3, 2, 4, 4], w: [5, 2, 1, 1], p: geometry() },
  { name: "one image, depthwise", x: [1, 3, 6, 6], w: [3, 1, 3, 3], p: geometry(1, 1, 1, 3) },
  { name: "many images (several per chunk), 64 output channels", x: [130, 2, 6, 6], w: [64, 2, 3, 3], p: geometry() },
];

describe("wasm convolutions", () => {
  const arena = new Arena(createSharedMemory());
  let one: WasmKernels;
  let two: WasmKernels;
  /** Kernels that never skip dy's zeros: the dense path, whatever dy holds. */
  let dense: WasmKernels;
  beforeAll(async () => {
    one = await createWasmKernels({ arena, threads: 1 });
    two = await createWasmKernels({ arena, threads: 2 });
    dense = await createWasmKernels({ arena, threads: 1, sparseMaxDensity: 0 });
  });
  afterAll(async () => {
    await one.dispose();
    await two.dispose();
    await dense.dispose();
  });

  /** A float32 block of the arena with random contents (or NaN, to catch unwritten outputs). */
  function block(n: number, seed: number): { ptr: number; view: Float32Array } {
    const ptr = arena.alloc(n * 4);
    const view = arena.f32view(ptr, n);
    if (seed >= 0) fillRandom(view, seed);
    else view.fill(Number.NaN);
    return { ptr, view };
  }

  for (const c of CASES) {
    test(`${c.name}: forward, input and weight gradients match the reference; 1 and 2 threads bit-identical`, () => {
      const [N, , H, W] = c.x;
      const [O, , KH, KW] = c.w;
      const OH = Math.floor((H + 2 * c.p.padding[0] - c.p.dilation[0] * (KH - 1) - 1) / c.p.stride[0]) + 1;
      const OW = Math.floor((W + 2 * c.p.padding[1] - c.p.dilation[1] * (KW - 1) - 1) / c.p.stride[1]) + 1;
      const ys: Shape4 = [N, O, OH, OW];
      const size = (s: Shape4) => s[0] * s[1] * s[2] * s[3];
      const x = block(size(c.x), 1);
      const w = block(size(c.w), 2);
      const dy = block(size(ys), 3);
      const blocks = [x, w, dy];

      const check = (name: string, n: number, run: (k: WasmKernels, out: number) => void, reference: (out: Float32Array) => void) => {
        const ref = new Float32Array(n);
        reference(ref);
        const outs = [one, two].map((k) => {
          const out = block(n, -1);
          blocks.push(out);
          run(k, out.ptr);
          return out.view;
        });
        expect(relativeError(outs[0]!, ref), name).toBeLessThan(1e-5);
        expect(bitDifferences(outs[1]!, outs[0]!), `${name}: 2 threads vs 1`).toBe(0);
      };
      check(
        "conv2d",
        size(ys),
        (k, out) => k.conv2d(x.ptr, c.x, w.ptr, c.w, out, c.p),
        (out) => conv2d(x.view, c.x, w.view, c.w, out, ys, c.p),
      );
      // and dy as behind a max pool: three entries in four zero, so both gradients skip them
      const sparseDy = block(size(ys), 6);
      blocks.push(sparseDy);
      sparsify(sparseDy.view, 7);
      const before = [one, two].map((k) => k.stats.sparseGradients);
      for (const [variant, d] of [
        ["", dy],
        [", sparse dy", sparseDy],
      ] as const) {
        check(
          `conv2dBackwardInput${variant}`,
          size(c.x),
          (k, out) => k.conv2dBackwardInput(d.ptr, w.ptr, c.w, out, c.x, c.p),
          (out) => conv2dBackwardInput(d.view, ys, w.view, c.w, out, c.x, c.p),
        );
        check(
          `conv2dBackwardWeight${variant}`,
          size(c.w),
          (k, out) => k.conv2dBackwardWeight(x.ptr, c.x, d.ptr, out, c.w, c.p),
          (out) => conv2dBackwardWeight(x.view, c.x, d.view, ys, out, c.w, c.p),
        );
      }
      // the weight gradient of a filter with few weights runs the direct kernel instead
      const skipping = c.p.groups === 1 ? (c.w[1] * c.w[2] * c.w[3] <= 64 && c.p.stride[0] === 1 && c.p.padding[0] === 0 && OW % 4 === 0 ? 1 : 2) : 0;
      expect([one, two].map((k, i) => k.stats.sparseGradients - before[i]!)).toEqual([skipping, skipping]);
      for (const b of blocks) arena.free(b.ptr);
    });
  }

  /** Zeroes each element with probability 3/4 (a fixed pattern per seed). */
  function sparsify(view: Float32Array, seed: number): void {
    let s = seed;
    for (let i = 0; i < view.length; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      if (s >>> 30 !== 0) view[i] = 0;
    }
  }

  test("sparse and dense gradients agree, and the sparse path runs only when it can", () => {
    const xs: Shape4 = [9, 20, 12, 12];
    const ws: Shape4 = [50, 20, 5, 5];
    const ys: Shape4 = [9, 50, 8, 8];
    const n = (s: Shape4) => s[0] * s[1] * s[2] * s[3];
    const x = block(n(xs), 8);
    const w = block(n(ws), 9);
    const dy = block(n(ys), 10);
    sparsify(dy.view, 11);
    const outs = [0, 1, 2, 3].map(() => block(n(xs), -1));
    const sparseBefore = two.stats.sparseGradients;
    two.conv2dBackwardInput(dy.ptr, w.ptr, ws, outs[0]!.ptr, xs);
    dense.conv2dBackwardInput(dy.ptr, w.ptr, ws, outs[1]!.ptr, xs);
    expect(relativeError(outs[0]!.view, outs[1]!.view)).toBeLessThan(1e-5);
    two.conv2dBackwardWeight(x.ptr, xs, dy.ptr, outs[2]!.ptr, ws);
    dense.conv2dBackwardWeight(x.ptr, xs, dy.ptr, outs[3]!.ptr, ws);
    expect(relativeError(outs[2]!.view.subarray(0, n(ws)), outs[3]!.view.subarray(0, n(ws)))).toBeLessThan(1e-5);
    expect(two.stats.sparseGradients - sparseBefore).toBe(2);
    expect(dense.stats.sparseGradients).toBe(0);
    // 0 · ∞ is NaN: with an infinite input or weight, neither gradient may skip dy's zeros
    x.view[3] = Number.POSITIVE_INFINITY;
    w.view[5] = Number.NEGATIVE_INFINITY;
    const refW = new Float32Array(n(ws));
    conv2dBackwardWeight(x.view, xs, dy.view, ys, refW, ws, geometry());
    two.conv2dBackwardWeight(x.ptr, xs, dy.ptr, outs[2]!.ptr, ws);
    const refX = new Float32Array(n(xs));
    conv2dBackwardInput(dy.view, ys, w.view, ws, refX, xs, geometry());
    two.conv2dBackwardInput(dy.ptr, w.ptr, ws, outs[0]!.ptr, xs);
    const nans = (v: Float32Array) => v.reduce((k, e) => k + (Number.isNaN(e) ? 1 : 0), 0);
    expect(nans(refW)).toBeGreaterThan(0);
    expect(nans(outs[2]!.view.subarray(0, n(ws)))).toBe(nans(refW));
    expect(nans(refX)).toBeGreaterThan(0);
    expect(nans(outs[0]!.view)).toBe(nans(refX));
    expect(two.stats.sparseGradients - sparseBefore).toBe(2);
    for (const b of [x, w, dy, ...outs]) arena.free(b.ptr);
  });

  test("the weight gradient sums images in groups when their im2col exceeds the group budget", () => {
    // 40 images of conv2 need 5 MiB of columns, more than one group's 4 MiB
    const xs: Shape4 = [40, 20, 12, 12];
    const ws: Shape4 = [50, 20, 5, 5];
    const ys: Shape4 = [40, 50, 8, 8];
    const n = (s: Shape4) => s[0] * s[1] * s[2] * s[3];
    const x = block(n(xs), 4);
    const dy = block(n(ys), 5);
    const out = block(n(ws), -1);
    two.conv2dBackwardWeight(x.ptr, xs, dy.ptr, out.ptr, ws);
    const ref = new Float32Array(n(ws));
    conv2dBackwardWeight(x.view, xs, dy.view, ys, ref, ws, geometry());
    expect(relativeError(out.view, ref)).toBeLessThan(1e-5);
    for (const b of [x, dy, out]) arena.free(b.ptr);
  });

  test("one thread runs every job alone; with two, the worker takes chunks", () => {
    expect(one.stats.jobs).toBe(0);
    expect(one.stats.soloJobs).toBeGreaterThan(0);
    expect(two.stats.jobs + two.stats.soloJobs).toBeGreaterThan(0);
    // the caller runs alone only for a few jobs after a stall (a worker descheduled mid-chunk)
    expect(two.stats.soloJobs).toBeLessThanOrEqual(8 * two.stats.stalls);
  });

  test("a sparseMaxDensity outside [0, 1] is refused", async () => {
    for (const bad of [-0.1, 1.5, Number.NaN]) {
      await expect(createWasmKernels({ arena, sparseMaxDensity: bad })).rejects.toThrow(/sparseMaxDensity must be a number from 0 to 1/);
    }
  });

  test("invalid geometry is rejected with the shapes in the message", () => {
    expect(() => one.conv2d(64, [1, 3, 8, 8], 64, [4, 2, 3, 3], 64)).toThrow(/conv2d: invalid convolution \(input \[1,3,8,8\], weight \[4,2,3,3\]/);
    const end = one.memory.buffer.byteLength;
    expect(() => one.conv2d(end - 16, [1, 1, 8, 8], 64, [1, 1, 3, 3], 64)).toThrow(/x spans bytes/);
  });
});
