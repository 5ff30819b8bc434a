import { describe, it, expect } from "vitest";
import {
  argmax,
  argmin,
  assertClose,
  avgPool2d,
  avgPool2dBackward,
  binary,
  broadcastShape,
  cast,
  concat,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  crossEntropy,
  expand,
  gather,
  logSoftmax,
  matmul,
  maxAbsDiff,
  maxPool2d,
  maxPool2dBackward,
  numericGradient,
  oneHot,
  pad,
  permute,
  reduce,
  ref,
  reference,
  reshape,
  slice,
  softmax,
  stack,
  transpose,
  unary,
  where,
  type Conv2dParams,
  type Pool2dParams,
  type RefArray,
} from "../src/testing/reference.js";

/** Deterministic uniform values in [-1, 1) (mulberry32). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

function random(shape: number[], seed: number): RefArray {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return ref(
    shape,
    Array.from({ length: n }, () => next()),
  );
}

function arange(shape: number[], start = 0): RefArray {
  const n = shape.reduce((a, b) => a * b, 1);
  return ref(
    shape,
    Array.from({ length: n }, (_, i) => start + i),
  );
}

function values(x: RefArray): number[] {
  return Array.from(x.data);
}

describe("ref", () => {
  it("builds a row-major float64 array and copies the values", () => {
    const src = [1, 2, 3, 4, 5, 6];
    const x = ref([2, 3], src);
    src[0] = 99;
    expect(x.shape).toEqual([2, 3]);
    expect(x.data).toBeInstanceOf(Float64Array);
    expect(values(x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ref([], [7]).shape).toEqual([]);
  });

  it("throws on a length mismatch or a bad shape", () => {
    expect(() => ref([2, 2], [1, 2, 3])).toThrow(/do not fill shape \[2, 2\]/);
    expect(() => ref([-1], [])).toThrow(/invalid shape/);
  });

  it("exposes every op on the namespace object", () => {
    expect(reference.conv2d).toBe(conv2d);
    expect(reference.assertClose).toBe(assertClose);
    expect(Object.keys(reference)).toHaveLength(33);
  });
});

describe("unary", () => {
  const x = ref([5], [-2, -0.5, 0, 1.5, 3]);
  it("computes the piecewise ops", () => {
    expect(values(unary("neg", x))).toEqual([2, 0.5, -0, -1.5, -3]);
    expect(values(unary("abs", x))).toEqual([2, 0.5, 0, 1.5, 3]);
    expect(values(unary("sign", x))).toEqual([-1, -1, 0, 1, 1]);
    expect(values(unary("relu", x))).toEqual([0, 0, 0, 1.5, 3]);
    expect(values(unary("floor", x))).toEqual([-2, -1, 0, 1, 3]);
    expect(values(unary("ceil", x))).toEqual([-2, -0, 0, 2, 3]);
    expect(values(unary("logicalNot", x))).toEqual([0, 0, 1, 0, 0]);
  });

  it("computes the transcendental ops", () => {
    const y = ref([3], [0, 1, 4]);
    assertClose(unary("exp", y), [1, Math.E, Math.exp(4)], { atol: 0, rtol: 1e-15 }, "exp");
    expect(values(unary("log", y))).toEqual([-Infinity, 0, Math.log(4)]);
    expect(values(unary("sqrt", y))).toEqual([0, 1, 2]);
    expect(values(unary("tanh", y))[0]).toBe(0);
    expect(values(unary("sigmoid", ref([3], [0, -1000, 1000])))).toEqual([0.5, 0, 1]);
    expect(values(unary("sin", ref([2], [0, Math.PI / 2])))).toEqual([0, 1]);
    expect(values(unary("cos", ref([1], [0])))).toEqual([1]);
    expect(Number.isNaN(unary("relu", ref([1], [NaN])).data[0])).toBe(true);
  });

  it("rejects an unknown op", () => {
    expect(() => unary("nope" as never, x)).toThrow(/unknown op/);
  });
});

describe("binary and broadcastShape", () => {
  const a = ref([2, 1], [1, 2]);
  const b = ref([3], [10, 20, 30]);

  it("broadcasts shapes like NumPy", () => {
    expect(broadcastShape([2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(broadcastShape([], [3])).toEqual([3]);
    expect(broadcastShape([0, 1], [1, 5])).toEqual([0, 5]);
    expect(broadcastShape(a, b)).toEqual([2, 3]);
    expect(() => broadcastShape([2, 3], [4])).toThrow(/not broadcastable/);
  });

  it("computes arithmetic with broadcasting", () => {
    const s = binary("add", a, b);
    expect(s.shape).toEqual([2, 3]);
    expect(values(s)).toEqual([11, 21, 31, 12, 22, 32]);
    expect(values(binary("sub", a, b))).toEqual([-9, -19, -29, -8, -18, -28]);
    expect(values(binary("mul", a, b))).toEqual([10, 20, 30, 20, 40, 60]);
    expect(values(binary("div", b, ref([], [10])))).toEqual([1, 2, 3]);
    expect(values(binary("pow", ref([3], [2, 1, -1]), ref([3], [3, NaN, Infinity])))).toEqual([8, 1, 1]);
    expect(values(binary("maximum", ref([3], [1, 5, NaN]), ref([3], [2, 4, 0])))).toEqual([2, 5, NaN]);
    expect(values(binary("minimum", ref([3], [1, 5, 0]), ref([3], [2, 4, NaN])))).toEqual([1, 4, NaN]);
  });

  it("computes comparisons and logical ops as 1/0", () => {
    const x = ref([4], [1, 2, 3, NaN]);
    const y = ref([4], [2, 2, 2, NaN]);
    expect(values(binary("equal", x, y))).toEqual([0, 1, 0, 0]);
    expect(values(binary("notEqual", x, y))).toEqual([1, 0, 1, 1]);
    expect(values(binary("less", x, y))).toEqual([1, 0, 0, 0]);
    expect(values(binary("lessEqual", x, y))).toEqual([1, 1, 0, 0]);
    expect(values(binary("greater", x, y))).toEqual([0, 0, 1, 0]);
    expect(values(binary("greaterEqual", x, y))).toEqual([0, 1, 1, 0]);
    const p = ref([4], [0, 0, 2, -1]);
    const q = ref([4], [0, 3, 0, 0.5]);
    expect(values(binary("logicalAnd", p, q))).toEqual([0, 0, 0, 1]);
    expect(values(binary("logicalOr", p, q))).toEqual([0, 1, 1, 1]);
  });

  it("throws on incompatible shapes", () => {
    expect(() => binary("add", ref([2], [1, 2]), ref([3], [1, 2, 3]))).toThrow(/\[2\] and \[3\]/);
  });
});

describe("where", () => {
  it("selects with a three-way broadcast", () => {
    const out = where(ref([2, 1], [1, 0]), ref([], [7]), ref([3], [1, 2, 3]));
    expect(out.shape).toEqual([2, 3]);
    expect(values(out)).toEqual([7, 7, 7, 1, 2, 3]);
  });
});

describe("reduce, argmax, argmin", () => {
  const x = ref([2, 3], [1, 2, 3, 4, 5, 6]);

  it("reduces over all axes or selected axes", () => {
    const all = reduce("sum", x);
    expect(all.shape).toEqual([]);
    expect(values(all)).toEqual([21]);
    expect(values(reduce("sum", x, [0]))).toEqual([5, 7, 9]);
    const kept = reduce("sum", x, [-1], true);
    expect(kept.shape).toEqual([2, 1]);
    expect(values(kept)).toEqual([6, 15]);
    expect(values(reduce("prod", x))).toEqual([720]);
    expect(values(reduce("max", x, [1]))).toEqual([3, 6]);
    expect(values(reduce("min", x))).toEqual([1]);
    expect(values(reduce("mean", x, [0]))).toEqual([2.5, 3.5, 4.5]);
    expect(reduce("mean", x, undefined, true).shape).toEqual([1, 1]);
    const none = reduce("sum", x, []);
    expect(none.shape).toEqual([2, 3]);
    expect(values(none)).toEqual(values(x));
  });

  it("handles empty reductions and bad axes", () => {
    expect(values(reduce("sum", ref([0], [])))).toEqual([0]);
    expect(values(reduce("prod", ref([0], [])))).toEqual([1]);
    expect(() => reduce("max", ref([0], []))).toThrow(/zero-size/);
    // NumPy: an empty kept axis gives an empty result; an empty reduced axis has no identity
    expect(reduce("max", ref([3, 0, 7], []), [0, 2], true).shape).toEqual([1, 0, 1]);
    expect(() => reduce("min", ref([0, 0], []), [0])).toThrow(/zero-size/);
    expect(argmax(ref([3, 0], []), 0).shape).toEqual([0]);
    expect(() => argmax(ref([0, 3], []), 0)).toThrow(/empty axis/);
    expect(() => reduce("sum", x, [0, -2])).toThrow(/duplicate axis/);
    expect(() => reduce("sum", x, [2])).toThrow(/out of range/);
  });

  it("finds the first extreme index", () => {
    const y = ref([2, 3], [1, 3, 3, 7, 0, 7]);
    const flat = argmax(y);
    expect(flat.shape).toEqual([]);
    expect(values(flat)).toEqual([3]);
    expect(values(argmax(y, 1))).toEqual([1, 0]);
    expect(values(argmin(y, 0))).toEqual([0, 1, 0]);
    expect(values(argmin(y))).toEqual([4]);
    const kept = argmax(y, -1, true);
    expect(kept.shape).toEqual([2, 1]);
    expect(argmax(y, undefined, true).shape).toEqual([1, 1]);
  });
});

describe("matmul", () => {
  it("handles 1-D operands by promotion and removal", () => {
    const v = ref([3], [1, 2, 3]);
    const dot = matmul(v, ref([3], [4, 5, 6]));
    expect(dot.shape).toEqual([]);
    expect(values(dot)).toEqual([32]);
    const m = ref([2, 3], [1, 0, 2, 0, 1, -1]);
    const mv = matmul(m, v);
    expect(mv.shape).toEqual([2]);
    expect(values(mv)).toEqual([7, -1]);
    const vm = matmul(v, ref([3, 2], [1, 2, 3, 4, 5, 6]));
    expect(vm.shape).toEqual([2]);
    expect(values(vm)).toEqual([22, 28]);
  });

  it("computes a plain matrix product", () => {
    const c = matmul(ref([2, 2], [1, 2, 3, 4]), ref([2, 2], [5, 6, 7, 8]));
    expect(values(c)).toEqual([19, 22, 43, 50]);
  });

  it("broadcasts batch dims", () => {
    // a[p] = (p+1) * I (shape [2,1,2,2]), b[k] = [[k, 1], [0, k]] (shape [3,2,2]) -> out[p,k] = (p+1) * b[k].
    const a = ref([2, 1, 2, 2], [1, 0, 0, 1, 2, 0, 0, 2]);
    const b = ref([3, 2, 2], [0, 1, 0, 0, 1, 1, 0, 1, 2, 1, 0, 2]);
    const c = matmul(a, b);
    expect(c.shape).toEqual([2, 3, 2, 2]);
    const expected: number[] = [];
    for (let p = 0; p < 2; p++) for (let k = 0; k < 3; k++) expected.push(...[k, 1, 0, k].map((v) => (p + 1) * v));
    expect(values(c)).toEqual(expected);
    // 1-D lhs against a batched rhs: [2] @ [3,2,2] -> [3,2]
    const vb = matmul(ref([2], [1, 1]), b);
    expect(vb.shape).toEqual([3, 2]);
    expect(values(vb)).toEqual([0, 1, 1, 2, 2, 3]);
    // batched lhs against a 1-D rhs: [3,2,2] @ [2] -> [3,2]
    expect(values(matmul(b, ref([2], [1, 1])))).toEqual([1, 0, 2, 1, 3, 2]);
  });

  it("throws on mismatched inner dims or rank 0", () => {
    expect(() => matmul(ref([2, 3], [0, 0, 0, 0, 0, 0]), ref([2, 3], [0, 0, 0, 0, 0, 0]))).toThrow(/inner dims/);
    expect(() => matmul(ref([], [1]), ref([1], [1]))).toThrow(/rank >= 1/);
    expect(() => matmul(ref([2, 2, 1], [0, 0, 0, 0]), ref([3, 1, 1], [0, 0, 0]))).toThrow(/not broadcastable/);
  });
});

describe("conv2d", () => {
  it("computes a plain cross-correlation", () => {
    const x = arange([1, 1, 3, 3], 1);
    const w = ref([1, 1, 2, 2], [1, 0, 0, 1]);
    const y = conv2d(x, w);
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(values(y)).toEqual([6, 8, 12, 14]);
  });

  it("handles stride 2, padding 1, dilation 2 and groups 2", () => {
    // x[0,0,r,c] = 4r + c + 1, x[0,1,r,c] = 100 + 4r + c + 1; taps at rows/cols 2i - 1 + 2k.
    const x = ref([1, 2, 4, 4], [...Array.from({ length: 16 }, (_, i) => i + 1), ...Array.from({ length: 16 }, (_, i) => 101 + i)]);
    const w = ref([2, 1, 2, 2], [1, 2, 3, 4, 1, 0, 0, -1]);
    const params: Conv2dParams = { stride: [2, 2], padding: [1, 1], dilation: [2, 2], groups: 2 };
    const y = conv2d(x, w, params);
    expect(y.shape).toEqual([1, 2, 2, 2]);
    expect(values(y)).toEqual([24, 50, 68, 128, -106, -108, -114, -10]);
  });

  it("sums only the channels of the output's group", () => {
    const x = ref([1, 4, 1, 1], [1, 2, 3, 4]);
    const w = ref([2, 2, 1, 1], [1, 10, 100, 1000]);
    expect(values(conv2d(x, w, { groups: 2 }))).toEqual([21, 4300]);
  });

  it("throws on inconsistent channels or an empty output", () => {
    expect(() => conv2d(arange([1, 3, 3, 3]), arange([2, 2, 1, 1]), { groups: 2 })).toThrow(/channels/);
    expect(() => conv2d(arange([1, 1, 2, 2]), arange([1, 1, 3, 3]))).toThrow(/empty/);
  });

  it("computes hand-checked input and weight gradients", () => {
    const x = arange([1, 1, 3, 3], 1);
    const w = ref([1, 1, 2, 2], [1, 0, 0, 1]);
    const dy = ref([1, 1, 2, 2], [1, 1, 1, 1]);
    expect(values(conv2dBackwardInput(dy, w, [1, 1, 3, 3]))).toEqual([1, 1, 0, 1, 2, 1, 0, 1, 1]);
    expect(values(conv2dBackwardWeight(x, dy, [1, 1, 2, 2]))).toEqual([12, 16, 24, 28]);
    expect(() => conv2dBackwardInput(ref([1, 1, 1, 1], [1]), w, [1, 1, 3, 3])).toThrow(/dy has shape/);
  });

  const cases: Array<{ name: string; x: number[]; w: number[]; params: Conv2dParams }> = [
    { name: "defaults", x: [2, 3, 4, 5], w: [2, 3, 3, 2], params: {} },
    {
      name: "stride 2, padding 1, dilation 2, groups 2",
      x: [2, 4, 6, 5],
      w: [4, 2, 2, 2],
      params: { stride: [2, 2], padding: [1, 1], dilation: [2, 2], groups: 2 },
    },
    {
      name: "asymmetric stride/padding/dilation, depthwise",
      x: [1, 3, 5, 6],
      w: [6, 1, 2, 3],
      params: { stride: [2, 1], padding: [1, 2], dilation: [2, 1], groups: 3 },
    },
    { name: "stride leaves input rows unused", x: [1, 2, 6, 6], w: [3, 2, 2, 2], params: { stride: [3, 3] } },
  ];
  for (const c of cases) {
    it(`backward ops match numericGradient (${c.name})`, () => {
      const x = random(c.x, 1);
      const w = random(c.w, 2);
      const y = conv2d(x, w, c.params);
      const dy = random(y.shape, 3);
      const [gx, gw] = numericGradient(([xi, wi]) => conv2d(xi!, wi!, c.params), [x, w], dy);
      assertClose(conv2dBackwardInput(dy, w, c.x, c.params), gx!, { atol: 1e-7, rtol: 1e-6 }, "dx");
      assertClose(conv2dBackwardWeight(x, dy, c.w, c.params), gw!, { atol: 1e-7, rtol: 1e-6 }, "dw");
    });
  }
});

describe("pooling", () => {
  // The LeNet tutorial geometry: 5x5 input, 2x2 windows.
  const x = ref([1, 1, 5, 5], [1, 9, 2, 0, 5, 3, 4, 8, 1, 6, 7, 0, 3, 2, 4, 2, 5, 1, 9, 3, 6, 1, 4, 7, 8]);

  it("maxPool2d floor mode gives 2x2 on 5x5", () => {
    const y = maxPool2d(x, { kernel: [2, 2] });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(values(y)).toEqual([9, 8, 7, 9]);
  });

  it("maxPool2d ceil mode gives 3x3 on 5x5 (Theano ignore_border=False)", () => {
    const y = maxPool2d(x, { kernel: [2, 2], stride: [2, 2], ceilMode: true });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(values(y)).toEqual([9, 8, 6, 7, 9, 4, 6, 7, 8]);
  });

  it("avgPool2d divides by the real cells in floor and ceil mode", () => {
    expect(values(avgPool2d(x, { kernel: [2, 2] }))).toEqual([4.25, 2.75, 3.5, 3.75]);
    expect(values(avgPool2d(x, { kernel: [2, 2], ceilMode: true }))).toEqual([4.25, 2.75, 5.5, 3.5, 3.75, 3.5, 3.5, 5.5, 8]);
  });

  it("applies PyTorch's ceil-mode rule that the last window starts inside input or left padding", () => {
    // W = 5, k = 2, s = 2, p = 1: ceil gives 4 windows, but the 4th would start at 5 >= W -> 3.
    const row = ref([1, 1, 1, 5], [1, 2, 3, 4, 5]);
    const params: Pool2dParams = { kernel: [1, 2], stride: [1, 2], padding: [0, 1], ceilMode: true };
    const y = maxPool2d(row, params);
    expect(y.shape).toEqual([1, 1, 1, 3]);
    expect(values(y)).toEqual([1, 3, 5]);
    expect(values(avgPool2d(row, params))).toEqual([1, 2.5, 4.5]);
    expect(maxPool2d(row, { ...params, ceilMode: false }).shape).toEqual([1, 1, 1, 3]);
    // W = 6, k = 3, s = 3, p = 1: floor gives 2, ceil gives 3 (last window starts at 5 < W).
    const six = arange([1, 1, 1, 6], 1);
    const p6: Pool2dParams = { kernel: [1, 3], stride: [1, 3], padding: [0, 1] };
    expect(values(maxPool2d(six, p6))).toEqual([2, 5]);
    expect(values(maxPool2d(six, { ...p6, ceilMode: true }))).toEqual([2, 5, 6]);
    expect(values(avgPool2d(six, { ...p6, ceilMode: true }))).toEqual([1.5, 4, 6]);
  });

  it("never lets padding compete or count", () => {
    const neg = ref([1, 1, 2, 2], [-1, -2, -3, -4]);
    const params: Pool2dParams = { kernel: [2, 2], stride: [1, 1], padding: [1, 1] };
    expect(values(maxPool2d(neg, params))).toEqual([-1, -1, -2, -1, -1, -2, -3, -3, -4]);
    expect(values(avgPool2d(neg, params))).toEqual([-1, -1.5, -2, -2, -2.5, -3, -3, -3.5, -4]);
  });

  it("maxPool2dBackward routes to the first maximum and accumulates overlaps", () => {
    const dy = ref([1, 1, 3, 3], [1, 1, 1, 1, 1, 1, 1, 1, 1]);
    const dx = maxPool2dBackward(x, dy, { kernel: [2, 2], ceilMode: true });
    const expected = new Array<number>(25).fill(0);
    for (const [r, c] of [
      [0, 1],
      [1, 2],
      [1, 4],
      [2, 0],
      [3, 3],
      [2, 4],
      [4, 0],
      [4, 3],
      [4, 4],
    ] as const) {
      expected[r * 5 + c] = 1;
    }
    expect(values(dx)).toEqual(expected);
    // ties: the first cell in row-major order wins
    const tie = maxPool2dBackward(ref([1, 1, 2, 2], [1, 1, 1, 1]), ref([1, 1, 1, 1], [5]), { kernel: [2, 2] });
    expect(values(tie)).toEqual([5, 0, 0, 0]);
    // overlapping windows that pick the same cell accumulate
    const over = maxPool2dBackward(ref([1, 1, 1, 3], [0, 5, 0]), ref([1, 1, 1, 2], [2, 3]), {
      kernel: [1, 2],
      stride: [1, 1],
    });
    expect(values(over)).toEqual([0, 5, 0]);
  });

  it("avgPool2dBackward spreads over real cells", () => {
    const dx = avgPool2dBackward(ref([1, 1, 1, 3], [2, 4, 6]), [1, 1, 1, 5], {
      kernel: [1, 2],
      stride: [1, 2],
      padding: [0, 1],
      ceilMode: true,
    });
    expect(values(dx)).toEqual([2, 2, 2, 3, 3]);
  });

  const cases: Array<{ name: string; x: number[]; params: Pool2dParams }> = [
    { name: "2x2 floor", x: [2, 2, 5, 5], params: { kernel: [2, 2] } },
    { name: "2x2 ceil", x: [1, 2, 5, 5], params: { kernel: [2, 2], ceilMode: true } },
    { name: "3x3 stride 2 pad 1 ceil (overlap)", x: [1, 2, 6, 7], params: { kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: true } },
    { name: "asymmetric", x: [2, 1, 5, 4], params: { kernel: [3, 2], stride: [1, 3], padding: [1, 0] } },
  ];
  for (const c of cases) {
    it(`backward ops match numericGradient (${c.name})`, () => {
      const xr = random(c.x, 7);
      const yMax = maxPool2d(xr, c.params);
      const dy = random(yMax.shape, 8);
      const [gMax] = numericGradient(([xi]) => maxPool2d(xi!, c.params), [xr], dy);
      assertClose(maxPool2dBackward(xr, dy, c.params), gMax!, { atol: 1e-7, rtol: 1e-6 }, "maxPool dx");
      const [gAvg] = numericGradient(([xi]) => avgPool2d(xi!, c.params), [xr], dy);
      assertClose(avgPool2dBackward(dy, c.x, c.params), gAvg!, { atol: 1e-7, rtol: 1e-6 }, "avgPool dx");
    });
  }
});

describe("shape ops", () => {
  it("reshape infers one -1 and checks sizes", () => {
    const y = reshape(arange([2, 3]), [3, -1]);
    expect(y.shape).toEqual([3, 2]);
    expect(values(y)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(reshape(ref([], [4]), [1, 1]).shape).toEqual([1, 1]);
    expect(() => reshape(arange([2, 3]), [-1, -1])).toThrow(/more than one -1/);
    expect(() => reshape(arange([2, 3]), [4, -1])).toThrow(/cannot infer/);
    expect(() => reshape(arange([2, 3]), [5])).toThrow(/cannot reshape/);
  });

  it("permute and transpose reorder axes", () => {
    expect(values(transpose(arange([2, 3])))).toEqual([0, 3, 1, 4, 2, 5]);
    const x = arange([2, 3, 4]);
    const y = permute(x, [2, 0, -2]);
    expect(y.shape).toEqual([4, 2, 3]);
    // y[k, i, j] = x[i, j, k] = 12i + 4j + k
    expect(y.data[1 * 6 + 1 * 3 + 2]).toBe(12 + 8 + 1);
    expect(y.data[3 * 6 + 0 * 3 + 1]).toBe(4 + 3);
    expect(transpose(x).shape).toEqual([4, 3, 2]);
    expect(() => permute(x, [0, 0, 1])).toThrow(/repeats/);
  });

  it("slice follows Python semantics", () => {
    const x = arange([10]);
    expect(values(slice(x, [{ start: -3 }]))).toEqual([7, 8, 9]);
    expect(values(slice(x, [{ start: 1, end: 8, step: 3 }]))).toEqual([1, 4, 7]);
    expect(values(slice(x, [{ start: 1, end: 9, step: 3 }]))).toEqual([1, 4, 7]);
    expect(values(slice(x, [{ start: -100, end: 100 }]))).toEqual(values(x));
    expect(slice(x, [{ start: 5, end: 2 }]).shape).toEqual([0]);
    expect(values(slice(x, [{ end: -8 }]))).toEqual([0, 1]);
    expect(() => slice(x, [{ step: 0 }])).toThrow(/step/);
    const m = arange([3, 4]);
    const s = slice(m, [{ start: 1 }, { step: 2 }]);
    expect(s.shape).toEqual([2, 2]);
    expect(values(s)).toEqual([4, 6, 8, 10]);
    expect(slice(m, [{ end: -1 }]).shape).toEqual([2, 4]);
  });

  it("expand broadcasts to a shape", () => {
    const y = expand(ref([3, 1], [1, 2, 3]), [2, 3, 2]);
    expect(y.shape).toEqual([2, 3, 2]);
    expect(values(y)).toEqual([1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3]);
    expect(expand(ref([3, 1], [1, 2, 3]), [-1, 4]).shape).toEqual([3, 4]);
    expect(() => expand(ref([3], [1, 2, 3]), [4])).toThrow(/cannot broadcast/);
  });

  it("pad fills with a value", () => {
    const y = pad(
      ref([2, 2], [1, 2, 3, 4]),
      [
        [1, 0],
        [0, 2],
      ],
      9,
    );
    expect(y.shape).toEqual([3, 4]);
    expect(values(y)).toEqual([9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9]);
    expect(values(pad(ref([3], [1, 2, 3]), [[1, 1]]))).toEqual([0, 1, 2, 3, 0]);
    expect(() => pad(ref([3], [1, 2, 3]), [])).toThrow(/pad pairs/);
  });

  it("concat and stack join arrays", () => {
    const c0 = concat([ref([1, 2], [1, 2]), ref([2, 2], [3, 4, 5, 6])], 0);
    expect(c0.shape).toEqual([3, 2]);
    expect(values(c0)).toEqual([1, 2, 3, 4, 5, 6]);
    const c1 = concat([ref([2, 1], [1, 2]), ref([2, 2], [3, 4, 5, 6])], -1);
    expect(values(c1)).toEqual([1, 3, 4, 2, 5, 6]);
    expect(() => concat([ref([2, 1], [1, 2]), ref([3, 1], [1, 2, 3])], 1)).toThrow(/does not match/);
    const a = ref([2], [1, 2]);
    const b = ref([2], [3, 4]);
    expect(values(stack([a, b], 0))).toEqual([1, 2, 3, 4]);
    const s1 = stack([a, b], -1);
    expect(s1.shape).toEqual([2, 2]);
    expect(values(s1)).toEqual([1, 3, 2, 4]);
    expect(() => stack([a, ref([3], [1, 2, 3])])).toThrow(/differs/);
  });

  it("gather selects indices along an axis", () => {
    const x = ref([3, 2], [1, 2, 3, 4, 5, 6]);
    const g0 = gather(x, [2, 0, 2], 0);
    expect(g0.shape).toEqual([3, 2]);
    expect(values(g0)).toEqual([5, 6, 1, 2, 5, 6]);
    const g1 = gather(x, ref([1], [1]), 1);
    expect(g1.shape).toEqual([3, 1]);
    expect(values(g1)).toEqual([2, 4, 6]);
    expect(() => gather(x, [-1], 0)).toThrow(/out of range/);
    expect(() => gather(x, [3], 0)).toThrow(/out of range/);
  });

  it("oneHot encodes along a new last dim", () => {
    expect(values(oneHot([2, 0], 3))).toEqual([0, 0, 1, 1, 0, 0]);
    const nd = oneHot(ref([2, 1], [1, 2]), 3);
    expect(nd.shape).toEqual([2, 1, 3]);
    expect(values(nd)).toEqual([0, 1, 0, 0, 0, 1]);
    expect(() => oneHot([3], 3)).toThrow(/out of range/);
  });
});

describe("softmax, logSoftmax, crossEntropy, cast", () => {
  it("softmax matches the formula and rows sum to 1", () => {
    const z = 1 + Math.E + Math.E ** 2;
    assertClose(softmax(ref([3], [0, 1, 2])), [1 / z, Math.E / z, Math.E ** 2 / z], { atol: 1e-15, rtol: 1e-14 }, "softmax");
    expect(values(softmax(ref([2], [1000, 1000])))).toEqual([0.5, 0.5]);
    const x = random([4, 5], 11);
    for (const axis of [-1, 0]) {
      const s = reduce("sum", softmax(x, axis), [axis]);
      assertClose(s, new Array(s.data.length).fill(1), { atol: 1e-12, rtol: 0 }, `row sums axis ${axis}`);
    }
  });

  it("logSoftmax is stable and equals log(softmax)", () => {
    assertClose(logSoftmax(ref([2], [0, Math.log(3)])), [-Math.log(4), Math.log(3) - Math.log(4)], { atol: 1e-15, rtol: 1e-14 }, "ls");
    assertClose(logSoftmax(ref([2], [1000, 1000])), [-Math.LN2, -Math.LN2], { atol: 1e-15, rtol: 1e-14 }, "ls big");
    const x = random([3, 4], 12);
    assertClose(logSoftmax(x, 0), unary("log", softmax(x, 0)), { atol: 1e-12, rtol: 1e-12 }, "log(softmax)");
  });

  it("crossEntropy is the mean negative log-likelihood", () => {
    const loss = crossEntropy(ref([2, 2], [0, 0, 0, Math.log(3)]), [0, 1]);
    expect(loss.shape).toEqual([]);
    expect(loss.data[0]).toBeCloseTo(Math.log(8 / 3) / 2, 14);
    expect(() => crossEntropy(ref([1, 2], [0, 0]), [2])).toThrow(/out of range/);
  });

  it("cast converts to float32, int32 and bool", () => {
    expect(values(cast(ref([2], [0.1, 1.5]), "float32"))).toEqual([Math.fround(0.1), 1.5]);
    expect(values(cast(ref([6], [-2.7, 2.7, 2 ** 31, 2 ** 32 + 5, NaN, Infinity]), "int32"))).toEqual([-2, 2, -2147483648, 5, 0, 0]);
    expect(values(cast(ref([4], [0, -0, 2, NaN]), "bool"))).toEqual([0, 0, 1, 1]);
  });
});

describe("numericGradient, maxAbsDiff, assertClose", () => {
  it("computes central differences without mutating inputs", () => {
    const x = ref([3], [1, -2, 0.5]);
    const [g] = numericGradient(([xi]) => binary("mul", xi!, xi!), [x], ref([3], [1, 2, 3]));
    assertClose(g!, [2, -8, 3], { atol: 1e-8, rtol: 0 }, "d(x^2)");
    expect(values(x)).toEqual([1, -2, 0.5]);
    expect(() => numericGradient(([xi]) => xi!, [x], ref([2], [1, 1]))).toThrow(/f returned shape/);
  });

  it("maxAbsDiff treats NaN and infinities specially", () => {
    expect(maxAbsDiff([1, 2, NaN, Infinity], [1, 2.5, NaN, Infinity])).toBe(0.5);
    expect(maxAbsDiff([NaN], [1])).toBe(Infinity);
    expect(maxAbsDiff([Infinity], [-Infinity])).toBe(Infinity);
    expect(() => maxAbsDiff([1], [1, 2])).toThrow(/lengths differ/);
  });

  it("assertClose passes within tolerance and explains failures", () => {
    expect(() => assertClose([1, 2.0001, NaN, -Infinity], [1, 2, NaN, -Infinity], { atol: 0, rtol: 1e-4 }, "ok")).not.toThrow();
    expect(() => assertClose(new Float32Array([1, 2]), ref([2], [1, 2]), { atol: 0, rtol: 0 }, "ok")).not.toThrow();
    const bad = () => assertClose([0, 1, 5, 9], ref([2, 2], [0, 1, 2, 3]), { atol: 1e-3, rtol: 0 }, "op foo");
    expect(bad).toThrow(/op foo: not close at flat index 2 \(index \[1, 0\]\): actual 5, expected 2/);
    expect(bad).toThrow(/2 of 4 elements fail/);
    expect(bad).toThrow(/expected shape \[2, 2\]/);
    expect(() => assertClose([1e300], [Infinity], { atol: 1, rtol: 1 }, "inf")).toThrow(/not close/);
    expect(() => assertClose([1], [NaN], { atol: 1, rtol: 1 }, "nan")).toThrow(/not close/);
    expect(() => assertClose([1, 2], [1], { atol: 1, rtol: 1 }, "len")).toThrow(/length mismatch/);
    expect(() => assertClose(ref([1, 2], [1, 2]), ref([2, 1], [1, 2]), { atol: 1, rtol: 1 }, "shape")).toThrow(/shape mismatch/);
  });
});
