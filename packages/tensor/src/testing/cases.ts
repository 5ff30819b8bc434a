/**
 * The conformance catalogue: every op of @tessera/tensor on a spread of shapes and layouts, each
 * with its float64 reference. Forward checks run it in `describeConformance`; @tessera/autograd's
 * gradient suite runs the same cases through numeric gradient checks.
 */
import { type BinaryOp, COMPARISON_OPS, type UnaryOp } from "../backend/contract.js";
import type { DType } from "../dtype.js";
import { tidy } from "../memory/scope.js";
import * as T from "../ops/index.js";
import type { Tensor } from "../tensor.js";
import type { InputSpec } from "./inputs.js";
import * as R from "./reference.js";
import type { RefArray } from "./reference.js";

/** Tolerance of a float32 result against the float64 reference: |a-e| <= atol + rtol*|e|. */
export interface Tolerance {
  /** Absolute tolerance. */
  atol: number;
  /** Tolerance relative to the expected value. */
  rtol: number;
}

/** Elementwise results: a few float32 roundings. */
export const ELEMENTWISE_TOL: Tolerance = { atol: 1e-6, rtol: 2e-6 };
/** Results that sum many products (reductions, matmul, conv): float32 accumulation error grows with K. */
export const ACCUMULATE_TOL: Tolerance = { atol: 1e-5, rtol: 1e-4 };
/** Transcendental functions whose float32 implementations may differ by a few ulps. */
export const TRANSCENDENTAL_TOL: Tolerance = { atol: 1e-6, rtol: 1e-5 };

/** One conformance case. */
export interface OpCase {
  /** Unique, readable name, e.g. `add [2,3,4]+[4]`. */
  name: string;
  /** The op under test (the key a backend's gap list uses). */
  op: string;
  /** How to make each input. */
  inputs: InputSpec[];
  /** Runs the op on the backend under test. */
  run: (...xs: Tensor[]) => Tensor;
  /** Computes the expected result in float64, independently of the implementation. */
  ref: (...xs: RefArray[]) => RefArray;
  /** The dtype the op must return. */
  dtype: DType;
  /** Tolerance of the comparison (elementwise by default). */
  tol?: Tolerance;
  /** Inputs to differentiate in the gradient suite; default every float input; false: none. */
  grad?: number[] | false;
  /**
   * The exact gradient (dy, ...inputs) -> one per differentiated input, for inputs where central
   * differences mean nothing (ties, NaN); the gradient suite then checks against it instead.
   */
  vjp?: (dy: RefArray, ...xs: RefArray[]) => RefArray[];
}

const f = (shape: number[], layout?: InputSpec["layout"]): InputSpec => ({ shape, ...(layout ? { layout } : {}) });
const pos = (shape: number[], layout?: InputSpec["layout"]): InputSpec => ({ shape, kind: "positive", ...(layout ? { layout } : {}) });
const distinct = (shape: number[], layout?: InputSpec["layout"]): InputSpec => ({ shape, kind: "distinct", ...(layout ? { layout } : {}) });
const int = (shape: number[]): InputSpec => ({ shape, kind: "int" });
const idx = (shape: number[], bound: number): InputSpec => ({ shape, kind: "index", bound });
const fmt = (s: number[]) => `[${s.join(",")}]`;

const UNARY: Array<[UnaryOp, (x: Tensor) => Tensor, "float" | "positive" | "distinct", Tolerance?, boolean?]> = [
  ["neg", T.neg, "float"],
  ["abs", T.abs, "distinct"],
  ["sign", T.sign, "distinct", undefined, false],
  ["exp", T.exp, "float", TRANSCENDENTAL_TOL],
  ["log", T.log, "positive", TRANSCENDENTAL_TOL],
  ["sqrt", T.sqrt, "positive", TRANSCENDENTAL_TOL],
  ["tanh", T.tanh, "float", TRANSCENDENTAL_TOL],
  ["sigmoid", T.sigmoid, "float", TRANSCENDENTAL_TOL],
  ["relu", T.relu, "distinct"],
  ["floor", T.floor, "distinct", undefined, false],
  ["ceil", T.ceil, "distinct", undefined, false],
  ["sin", T.sin, "float", TRANSCENDENTAL_TOL],
  ["cos", T.cos, "float", TRANSCENDENTAL_TOL],
];

const BINARY: Array<[BinaryOp, (a: Tensor, b: Tensor) => Tensor, boolean]> = [
  ["add", T.add, true],
  ["sub", T.sub, true],
  ["mul", T.mul, true],
  ["div", T.div, true],
  ["maximum", T.maximum, true],
  ["minimum", T.minimum, true],
  ["equal", T.equal, false],
  ["notEqual", T.notEqual, false],
  ["less", T.less, false],
  ["lessEqual", T.lessEqual, false],
  ["greater", T.greater, false],
  ["greaterEqual", T.greaterEqual, false],
];

const BROADCAST_PAIRS: Array<[number[], number[]]> = [
  [
    [3, 4],
    [3, 4],
  ],
  [[2, 3, 4], [4]],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [[], [2, 3]],
  [
    [5, 1],
    [1, 1],
  ],
  [[0, 3], [3]],
];

function unaryCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const [op, fn, kind, tol, differentiable] of UNARY) {
    for (const [shape, layout] of [
      [[7], undefined],
      [[3, 5], "transposed"],
      [[2, 3, 4], "strided"],
      [[0, 2], undefined],
      [[], undefined],
    ] as const) {
      out.push({
        name: `${op} ${fmt([...shape])}${layout ? ` ${layout}` : ""}`,
        op,
        inputs: [{ shape: [...shape], kind, ...(layout ? { layout } : {}) }],
        run: fn,
        ref: (x) => R.unary(op, x),
        dtype: "float32",
        ...(tol ? { tol } : {}),
        ...(differentiable === false ? { grad: false as const } : {}),
      });
    }
  }
  out.push({ name: "neg int32", op: "neg", inputs: [int([6])], run: T.neg, ref: (x) => R.unary("neg", x), dtype: "int32", grad: false });
  out.push({ name: "abs int32", op: "abs", inputs: [int([6])], run: T.abs, ref: (x) => R.unary("abs", x), dtype: "int32", grad: false });
  out.push({
    name: "exp of int32 promotes",
    op: "exp",
    inputs: [int([5])],
    run: T.exp,
    ref: (x) => R.unary("exp", x),
    dtype: "float32",
    tol: TRANSCENDENTAL_TOL,
    grad: false,
  });
  out.push({
    name: "logicalNot bool",
    op: "logicalNot",
    inputs: [{ shape: [7], kind: "bool" }],
    run: T.logicalNot,
    ref: (x) => R.unary("logicalNot", x),
    dtype: "bool",
    grad: false,
  });
  return out;
}

function binaryCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const [op, fn, differentiable] of BINARY) {
    const bool = COMPARISON_OPS.has(op);
    for (const [a, b] of BROADCAST_PAIRS) {
      const kindB = op === "div" ? "positive" : "distinct";
      out.push({
        name: `${op} ${fmt(a)}${fmt(b)}`,
        op,
        inputs: [
          { shape: a, kind: "distinct" },
          { shape: b, kind: kindB },
        ],
        run: fn,
        ref: (x, y) => R.binary(op, x, y),
        dtype: bool ? "bool" : "float32",
        ...(differentiable ? {} : { grad: false as const }),
      });
    }
    out.push({
      name: `${op} transposed+strided`,
      op,
      inputs: [
        { shape: [4, 3], kind: "distinct", layout: "transposed" },
        { shape: [4, 3], kind: op === "div" ? "positive" : "distinct", layout: "strided" },
      ],
      run: fn,
      ref: (x, y) => R.binary(op, x, y),
      dtype: bool ? "bool" : "float32",
      ...(differentiable ? {} : { grad: false as const }),
    });
    if (op !== "div") {
      out.push({
        name: `${op} int32`,
        op,
        inputs: [int([2, 3]), int([3])],
        run: fn,
        ref: (x, y) => R.binary(op, x, y),
        dtype: bool ? "bool" : "int32",
        grad: false,
      });
    }
  }
  out.push({
    name: "pow positive base",
    op: "pow",
    inputs: [pos([3, 4]), f([4])],
    run: T.pow,
    ref: (x, y) => R.binary("pow", x, y),
    dtype: "float32",
    tol: TRANSCENDENTAL_TOL,
  });
  out.push({
    name: "add scalar number",
    op: "add",
    inputs: [f([2, 3])],
    run: (x) => T.add(x, 1.5),
    ref: (x) => R.binary("add", x, R.ref([], [1.5])),
    dtype: "float32",
  });
  out.push({
    name: "add integer number to int32",
    op: "add",
    inputs: [int([5])],
    run: (x) => T.add(x, 2),
    ref: (x) => R.binary("add", x, R.ref([], [2])),
    dtype: "int32",
    grad: false,
  });
  out.push({
    name: "mul number first",
    op: "mul",
    inputs: [f([4])],
    run: (x) => T.mul(-2, x),
    ref: (x) => R.binary("mul", R.ref([], [-2]), x),
    dtype: "float32",
  });
  out.push({
    name: "logicalAnd bool",
    op: "logicalAnd",
    inputs: [
      { shape: [6], kind: "bool" },
      { shape: [6], kind: "bool" },
    ],
    run: T.logicalAnd,
    ref: (x, y) => R.binary("logicalAnd", x, y),
    dtype: "bool",
    grad: false,
  });
  out.push({
    name: "logicalOr bool",
    op: "logicalOr",
    inputs: [
      { shape: [2, 3], kind: "bool" },
      { shape: [3], kind: "bool" },
    ],
    run: T.logicalOr,
    ref: (x, y) => R.binary("logicalOr", x, y),
    dtype: "bool",
    grad: false,
  });
  out.push({ name: "square", op: "mul", inputs: [f([5])], run: T.square, ref: (x) => R.binary("mul", x, x), dtype: "float32" });
  return out;
}

function whereCases(): OpCase[] {
  return [
    {
      name: "where same shapes",
      op: "where",
      inputs: [{ shape: [3, 4], kind: "bool" }, f([3, 4]), f([3, 4])],
      run: T.where,
      ref: R.where,
      dtype: "float32",
      grad: [1, 2],
    },
    {
      name: "where broadcast",
      op: "where",
      inputs: [{ shape: [3, 1], kind: "bool" }, f([4]), f([2, 3, 4], "strided")],
      run: T.where,
      ref: R.where,
      dtype: "float32",
      grad: [1, 2],
    },
  ];
}

function reductionCases(): OpCase[] {
  const out: OpCase[] = [];
  const shapes: Array<[number[], number[] | undefined, boolean, InputSpec["layout"]?]> = [
    [[7], undefined, false],
    [[3, 4], [1], false],
    [[3, 4], [0], true, "transposed"],
    [[2, 3, 4], [0, 2], false, "strided"],
    // a bias gradient's reduction (trailing axes first, then the rest): both steps, contiguous
    [[3, 4, 2, 5], [0, 2, 3], false],
    [[3, 4, 2, 5], [0, 2, 3], true],
    [[2, 3, 4], [-1], true],
    [[2, 3, 4], undefined, true],
    [[4, 5], [], false],
    [[], undefined, false],
  ];
  for (const op of ["sum", "mean", "max", "min", "prod"] as const) {
    for (const [shape, axes, keepdims, layout] of shapes) {
      const run = (x: Tensor) => (op === "sum" ? T.sum : op === "mean" ? T.mean : op === "max" ? T.max : op === "min" ? T.min : T.prod)(x, axes, keepdims);
      out.push({
        name: `${op} ${fmt(shape)} axes ${axes ? fmt(axes) : "all"}${keepdims ? " keepdims" : ""}${layout ? ` ${layout}` : ""}`,
        op: op === "mean" ? "sum" : op,
        inputs: [{ shape, kind: op === "prod" ? "positive" : "distinct", ...(layout ? { layout } : {}) }],
        run,
        ref: (x) => R.reduce(op, x, axes, keepdims),
        dtype: "float32",
        tol: ACCUMULATE_TOL,
      });
    }
  }
  // Every row along the last axis holds 0, 1 or 2 zeros: the three branches of prod's gradient.
  for (const [shape, axes, keepdims] of [
    [[6, 4], [1], false],
    [[6, 3], [-1], true],
    [[2, 3], undefined, false],
  ] as Array<[number[], number[] | undefined, boolean]>) {
    out.push({
      name: `prod with zeros ${fmt(shape)} axes ${axes ? fmt(axes) : "all"}${keepdims ? " keepdims" : ""}`,
      op: "prod",
      inputs: [{ shape, kind: "sparse" }],
      run: (x) => T.prod(x, axes, keepdims),
      ref: (x) => R.reduce("prod", x, axes, keepdims),
      dtype: "float32",
      tol: ACCUMULATE_TOL,
    });
  }
  out.push({
    name: "sum empty axis",
    op: "sum",
    inputs: [f([3, 0])],
    run: (x) => T.sum(x, 1),
    ref: (x) => R.reduce("sum", x, [1]),
    dtype: "float32",
    grad: false,
  });
  out.push({ name: "sum int32", op: "sum", inputs: [int([4, 5])], run: (x) => T.sum(x, 0), ref: (x) => R.reduce("sum", x, [0]), dtype: "int32", grad: false });
  out.push({
    name: "prod int32",
    op: "prod",
    inputs: [int([3, 4])],
    run: (x) => T.prod(x, 1),
    ref: (x) => R.reduce("prod", x, [1]),
    dtype: "int32",
    grad: false,
  });
  out.push({
    name: "sum bool counts",
    op: "sum",
    inputs: [{ shape: [10], kind: "bool" }],
    run: (x) => T.sum(x),
    ref: (x) => R.reduce("sum", x),
    dtype: "int32",
    grad: false,
  });
  for (const op of ["argmax", "argmin"] as const) {
    const fn = op === "argmax" ? T.argmax : T.argmin;
    const rf = op === "argmax" ? R.argmax : R.argmin;
    out.push({ name: `${op} axis 1`, op, inputs: [distinct([3, 5])], run: (x) => fn(x, 1), ref: (x) => rf(x, 1), dtype: "int32", grad: false });
    out.push({
      name: `${op} axis 0 keepdims transposed`,
      op,
      inputs: [distinct([4, 3], "transposed")],
      run: (x) => fn(x, 0, true),
      ref: (x) => rf(x, 0, true),
      dtype: "int32",
      grad: false,
    });
    out.push({ name: `${op} flattened`, op, inputs: [distinct([2, 3, 4])], run: (x) => fn(x), ref: (x) => rf(x), dtype: "int32", grad: false });
    out.push({ name: `${op} of a scalar`, op, inputs: [f([])], run: (x) => fn(x), ref: (x) => rf(x), dtype: "int32", grad: false });
    out.push({ name: `${op} int32`, op, inputs: [int([3, 6])], run: (x) => fn(x, -1), ref: (x) => rf(x, -1), dtype: "int32", grad: false });
  }
  return out;
}

function matmulCases(): OpCase[] {
  const pairs: Array<[InputSpec, InputSpec]> = [
    [f([3, 4]), f([4, 5])],
    [f([1, 1]), f([1, 1])],
    [f([2, 3, 4]), f([4, 5])],
    [f([4]), f([4, 5])],
    [f([3, 4]), f([4])],
    [f([4]), f([4])],
    [f([2, 1, 3, 4]), f([5, 4, 2])],
    [f([6, 5], "transposed"), f([5, 7], "transposed")],
    [f([3, 8], "strided"), f([8, 2], "offset")],
    [f([17, 33]), f([33, 9])],
    [f([0, 3]), f([3, 2])],
    [f([3, 0]), f([0, 2])],
  ];
  return pairs.map(([a, b]) => ({
    name: `matmul ${fmt(a.shape)}${a.layout ? a.layout : ""}@${fmt(b.shape)}${b.layout ? b.layout : ""}`,
    op: "matmul",
    inputs: [a, b],
    run: T.matmul,
    ref: R.matmul,
    dtype: "float32",
    tol: ACCUMULATE_TOL,
  }));
}

interface ConvGeometry {
  x: number[];
  w: number[];
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
}

const CONV_GEOMETRIES: ConvGeometry[] = [
  { x: [2, 1, 8, 8], w: [3, 1, 5, 5] },
  { x: [1, 3, 7, 6], w: [4, 3, 3, 3], stride: [2, 2], padding: [1, 1] },
  { x: [2, 4, 9, 9], w: [4, 2, 3, 2], stride: [1, 2], padding: [2, 0], dilation: [2, 1], groups: 2 },
  { x: [1, 2, 5, 5], w: [2, 1, 3, 3], padding: [1, 1], groups: 2 },
  { x: [3, 2, 4, 4], w: [5, 2, 1, 1] },
  // LeNet's conv2 in small: more weights per filter than a direct kernel takes
  { x: [2, 4, 8, 8], w: [3, 4, 5, 5] },
];

function convCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const g of CONV_GEOMETRIES) {
    const params = { stride: g.stride ?? [1, 1], padding: g.padding ?? [0, 0], dilation: g.dilation ?? [1, 1], groups: g.groups ?? 1 } as const;
    const desc = `x${fmt(g.x)} w${fmt(g.w)} s${params.stride.join("")} p${params.padding.join("")} d${params.dilation.join("")} g${params.groups}`;
    const refParams = {
      stride: [...params.stride] as [number, number],
      padding: [...params.padding] as [number, number],
      dilation: [...params.dilation] as [number, number],
      groups: params.groups,
    };
    const y = R.conv2d(
      R.ref(g.x, new Float64Array(g.x.reduce((a, b) => a * b, 1))),
      R.ref(g.w, new Float64Array(g.w.reduce((a, b) => a * b, 1))),
      refParams,
    ).shape;
    out.push({
      name: `conv2d ${desc}`,
      op: "conv2d",
      inputs: [f(g.x), f(g.w)],
      run: (x, w) => T.conv2d(x, w, params),
      ref: (x, w) => R.conv2d(x, w, refParams),
      dtype: "float32",
      tol: ACCUMULATE_TOL,
    });
    // dy as it comes, and as a max pool passes it back (mostly zeros: backends may skip them)
    for (const [variant, dy] of [
      ["", f(y)],
      ["pooled dy ", { shape: y, kind: "pooled" }],
    ] as const) {
      out.push({
        name: `conv2dBackwardInput ${variant}${desc}`,
        op: "conv2dBackwardInput",
        inputs: [dy, f(g.w)],
        run: (dy, w) => T.conv2dBackwardInput(dy, w, g.x, params),
        ref: (dy, w) => R.conv2dBackwardInput(dy, w, g.x, refParams),
        dtype: "float32",
        tol: ACCUMULATE_TOL,
        grad: false,
      });
      out.push({
        name: `conv2dBackwardWeight ${variant}${desc}`,
        op: "conv2dBackwardWeight",
        inputs: [f(g.x), dy],
        run: (x, dy) => T.conv2dBackwardWeight(x, dy, g.w, params),
        ref: (x, dy) => R.conv2dBackwardWeight(x, dy, g.w, refParams),
        dtype: "float32",
        tol: ACCUMULATE_TOL,
        grad: false,
      });
    }
  }
  out.push({
    name: "conv2d non-contiguous input",
    op: "conv2d",
    inputs: [f([1, 2, 6, 6], "transposed"), f([2, 2, 3, 3], "strided")],
    run: (x, w) => T.conv2d(x, w),
    ref: (x, w) => R.conv2d(x, w),
    dtype: "float32",
    tol: ACCUMULATE_TOL,
  });
  return out;
}

interface PoolGeometry {
  x: number[];
  kernel: [number, number];
  stride?: [number, number];
  padding?: [number, number];
  ceilMode?: boolean;
}

const POOL_GEOMETRIES: PoolGeometry[] = [
  { x: [2, 3, 6, 6], kernel: [2, 2] },
  { x: [1, 2, 5, 5], kernel: [2, 2], ceilMode: true },
  { x: [1, 2, 5, 5], kernel: [2, 2] },
  { x: [2, 1, 7, 6], kernel: [3, 3], stride: [2, 2], padding: [1, 1] },
  { x: [1, 2, 6, 7], kernel: [3, 2], stride: [1, 2], ceilMode: true },
];

/** Non-overlapping windows, and overlapping ones over padding (cells shared by several windows). */
const TIE_GEOMETRIES: PoolGeometry[] = [
  { x: [2, 2, 6, 6], kernel: [2, 2] },
  { x: [1, 2, 7, 6], kernel: [3, 3], stride: [2, 1], padding: [1, 1] },
];

function poolCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const g of POOL_GEOMETRIES) {
    const opts = { kernelSize: g.kernel, stride: g.stride ?? g.kernel, padding: g.padding ?? [0, 0], ceilMode: g.ceilMode ?? false } as const;
    const rp = { kernel: g.kernel, stride: g.stride ?? g.kernel, padding: g.padding ?? ([0, 0] as [number, number]), ceilMode: g.ceilMode ?? false };
    const desc = `x${fmt(g.x)} k${g.kernel.join("")} s${rp.stride.join("")} p${rp.padding.join("")}${rp.ceilMode ? " ceil" : ""}`;
    const y = R.maxPool2d(R.ref(g.x, new Float64Array(g.x.reduce((a, b) => a * b, 1))), rp).shape;
    out.push({
      name: `maxPool2d ${desc}`,
      op: "maxPool2d",
      inputs: [distinct(g.x)],
      run: (x) => T.maxPool2d(x, opts),
      ref: (x) => R.maxPool2d(x, rp),
      dtype: "float32",
    });
    out.push({
      name: `avgPool2d ${desc}`,
      op: "avgPool2d",
      inputs: [f(g.x)],
      run: (x) => T.avgPool2d(x, opts),
      ref: (x) => R.avgPool2d(x, rp),
      dtype: "float32",
      tol: ACCUMULATE_TOL,
    });
    out.push({
      name: `maxPool2dBackward ${desc}`,
      op: "maxPool2dBackward",
      inputs: [distinct(g.x), f(y)],
      run: (x, dy) => T.maxPool2dBackward(x, dy, opts),
      ref: (x, dy) => R.maxPool2dBackward(x, dy, rp),
      dtype: "float32",
      tol: ACCUMULATE_TOL,
      grad: false,
    });
    out.push({
      name: `avgPool2dBackward ${desc}`,
      op: "avgPool2dBackward",
      inputs: [f(y)],
      run: (dy) => T.avgPool2dBackward(dy, g.x, opts),
      ref: (dy) => R.avgPool2dBackward(dy, g.x, rp),
      dtype: "float32",
      tol: ACCUMULATE_TOL,
      grad: false,
    });
  }
  // Equal maxima and NaNs in a window: the first maximum in row-major order wins, a NaN beats
  // everything (the first NaN), in the forward result and in where the gradient goes.
  for (const g of TIE_GEOMETRIES) {
    const opts = { kernelSize: g.kernel, stride: g.stride ?? g.kernel, padding: g.padding ?? [0, 0] } as const;
    const rp = { kernel: g.kernel, stride: g.stride ?? g.kernel, padding: g.padding ?? ([0, 0] as [number, number]) };
    const desc = `x${fmt(g.x)} k${g.kernel.join("")} s${rp.stride.join("")} p${rp.padding.join("")}`;
    const y = R.maxPool2d(R.ref(g.x, new Float64Array(g.x.reduce((a, b) => a * b, 1))), rp).shape;
    out.push({
      name: `maxPool2d ties and NaN ${desc}`,
      op: "maxPool2d",
      inputs: [{ shape: g.x, kind: "ties" }],
      run: (x) => T.maxPool2d(x, opts),
      ref: (x) => R.maxPool2d(x, rp),
      dtype: "float32",
      vjp: (dy, x) => [R.maxPool2dBackward(x, dy, rp)],
    });
    out.push({
      name: `maxPool2dBackward ties and NaN ${desc}`,
      op: "maxPool2dBackward",
      inputs: [{ shape: g.x, kind: "ties" }, f(y)],
      run: (x, dy) => T.maxPool2dBackward(x, dy, opts),
      ref: (x, dy) => R.maxPool2dBackward(x, dy, rp),
      dtype: "float32",
      tol: ACCUMULATE_TOL,
      grad: false,
    });
  }
  out.push({
    name: "maxPool2d transposed input",
    op: "maxPool2d",
    inputs: [distinct([1, 1, 4, 6], "transposed")],
    run: (x) => T.maxPool2d(x, { kernelSize: 2 }),
    ref: (x) => R.maxPool2d(x, { kernel: [2, 2] }),
    dtype: "float32",
  });
  out.push({
    name: "maxPool2d ignoreBorder false (Theano)",
    op: "maxPool2d",
    inputs: [distinct([3, 2, 5, 5])],
    run: (x) => T.maxPool2d(x, { kernelSize: 2, ignoreBorder: false }),
    ref: (x) => R.maxPool2d(x, { kernel: [2, 2], ceilMode: true }),
    dtype: "float32",
  });
  return out;
}

function viewCases(): OpCase[] {
  return [
    {
      name: "reshape [2,3,4]->[6,4]",
      op: "reshape",
      dtype: "float32",
      inputs: [f([2, 3, 4])],
      run: (x) => T.reshape(x, [6, 4]),
      ref: (x) => R.reshape(x, [6, 4]),
    },
    {
      name: "reshape -1 of transposed",
      op: "reshape",
      dtype: "float32",
      inputs: [f([3, 4], "transposed")],
      run: (x) => T.reshape(x, [-1]),
      ref: (x) => R.reshape(x, [12]),
    },
    {
      name: "reshape strided to 3-D",
      op: "reshape",
      dtype: "float32",
      inputs: [f([2, 6], "strided")],
      run: (x) => T.reshape(x, [3, 2, 2]),
      ref: (x) => R.reshape(x, [3, 2, 2]),
    },
    { name: "flatten from axis 1", op: "reshape", dtype: "float32", inputs: [f([2, 3, 4])], run: (x) => T.flatten(x, 1), ref: (x) => R.reshape(x, [2, 12]) },
    {
      name: "squeeze / unsqueeze",
      op: "reshape",
      dtype: "float32",
      inputs: [f([3, 1, 2])],
      run: (x) => tidy(() => T.unsqueeze(T.squeeze(x, 1), 0)),
      ref: (x) => R.reshape(x, [1, 3, 2]),
    },
    {
      name: "permute [2,3,4] (2,0,1)",
      op: "permute",
      dtype: "float32",
      inputs: [f([2, 3, 4])],
      run: (x) => tidy(() => T.contiguous(T.permute(x, [2, 0, 1]))),
      ref: (x) => R.permute(x, [2, 0, 1]),
    },
    { name: "transpose of offset", op: "permute", dtype: "float32", inputs: [f([3, 5], "offset")], run: (x) => T.transpose(x), ref: (x) => R.transpose(x) },
    {
      name: "slice steps and negatives",
      op: "slice",
      dtype: "float32",
      inputs: [f([6, 7])],
      run: (x) =>
        T.slice(x, [
          { start: 1, end: -1, step: 2 },
          { start: -5, step: 3 },
        ]),
      ref: (x) =>
        R.slice(x, [
          { start: 1, end: -1, step: 2 },
          { start: -5, step: 3 },
        ]),
    },
    {
      name: "slice of transposed",
      op: "slice",
      dtype: "float32",
      inputs: [f([4, 6], "transposed")],
      run: (x) => T.slice(x, [{ start: 1, end: 3 }]),
      ref: (x) => R.slice(x, [{ start: 1, end: 3 }]),
    },
    {
      name: "slice empty",
      op: "slice",
      dtype: "float32",
      inputs: [f([4, 3])],
      run: (x) => T.slice(x, [{ start: 3, end: 1 }]),
      ref: (x) => R.slice(x, [{ start: 3, end: 1 }]),
    },
    {
      name: "expand [3,1]->[2,3,4]",
      op: "expand",
      dtype: "float32",
      inputs: [f([3, 1])],
      run: (x) => T.expand(x, [2, 3, 4]),
      ref: (x) => R.expand(x, [2, 3, 4]),
    },
    {
      name: "pad 2-D",
      op: "pad",
      dtype: "float32",
      inputs: [f([2, 3])],
      run: (x) =>
        T.pad(
          x,
          [
            [1, 0],
            [2, 1],
          ],
          0.5,
        ),
      ref: (x) =>
        R.pad(
          x,
          [
            [1, 0],
            [2, 1],
          ],
          0.5,
        ),
    },
    {
      name: "pad transposed 3-D",
      op: "pad",
      dtype: "float32",
      inputs: [f([2, 3, 2], "transposed")],
      run: (x) =>
        T.pad(x, [
          [0, 1],
          [0, 0],
          [1, 1],
        ]),
      ref: (x) =>
        R.pad(x, [
          [0, 1],
          [0, 0],
          [1, 1],
        ]),
    },
    {
      name: "concat axis 1",
      op: "concat",
      dtype: "float32",
      inputs: [f([2, 3]), f([2, 1], "strided"), f([2, 4], "offset")],
      run: (a, b, c) => T.concat([a, b, c], 1),
      ref: (a, b, c) => R.concat([a, b, c], 1),
    },
    {
      name: "concat axis 0 with empty",
      op: "concat",
      dtype: "float32",
      inputs: [f([0, 3]), f([2, 3])],
      run: (a, b) => T.concat([a, b], 0),
      ref: (a, b) => R.concat([a, b], 0),
    },
    {
      name: "stack axis -1",
      op: "concat",
      dtype: "float32",
      inputs: [f([2, 3]), f([2, 3], "transposed")],
      run: (a, b) => T.stack([a, b], -1),
      ref: (a, b) => R.stack([a, b], -1),
    },
    // Axes that a scalar has none of are errors, but stacking and unsqueezing add one.
    { name: "stack scalars", op: "concat", dtype: "float32", inputs: [f([]), f([])], run: (a, b) => T.stack([a, b]), ref: (a, b) => R.stack([a, b]) },
    { name: "unsqueeze scalar", op: "reshape", dtype: "float32", inputs: [f([])], run: (x) => T.unsqueeze(x, -1), ref: (x) => R.reshape(x, [1]) },
    {
      name: "gather axis 0",
      op: "gather",
      dtype: "float32",
      inputs: [f([5, 3]), idx([7], 5)],
      run: (x, i) => T.gather(x, i, 0),
      ref: (x, i) => R.gather(x, i, 0),
      grad: [0],
    },
    {
      name: "gather axis 1 transposed",
      op: "gather",
      dtype: "float32",
      inputs: [f([4, 6], "transposed"), idx([3], 6)],
      run: (x, i) => T.gather(x, i, 1),
      ref: (x, i) => R.gather(x, i, 1),
      grad: [0],
    },
    {
      name: "gather int32",
      op: "gather",
      dtype: "int32",
      inputs: [int([6, 2]), idx([4], 6)],
      run: (x, i) => T.gather(x, i, 0),
      ref: (x, i) => R.gather(x, i, 0),
      grad: false,
    },
    { name: "oneHot", op: "oneHot", dtype: "float32", inputs: [idx([2, 3], 4)], run: (i) => T.oneHot(i, 4), ref: (i) => R.oneHot(i, 4), grad: false },
    {
      name: "softmax last axis",
      op: "softmax",
      dtype: "float32",
      inputs: [f([3, 5])],
      run: (x) => T.softmax(x),
      ref: (x) => R.softmax(x),
      tol: TRANSCENDENTAL_TOL,
    },
    {
      name: "softmax axis 0 transposed",
      op: "softmax",
      dtype: "float32",
      inputs: [f([4, 3], "transposed")],
      run: (x) => T.softmax(x, 0),
      ref: (x) => R.softmax(x, 0),
      tol: TRANSCENDENTAL_TOL,
    },
    {
      name: "logSoftmax last axis",
      op: "logSoftmax",
      dtype: "float32",
      inputs: [f([4, 10])],
      run: (x) => T.logSoftmax(x),
      ref: (x) => R.logSoftmax(x),
      tol: TRANSCENDENTAL_TOL,
    },
    {
      name: "logSoftmax large logits",
      op: "logSoftmax",
      dtype: "float32",
      inputs: [f([2, 3])],
      run: (x) => tidy(() => T.logSoftmax(T.mul(x, 200))),
      ref: (x) => R.logSoftmax(R.binary("mul", x, R.ref([], [200]))),
      tol: { atol: 1e-4, rtol: 1e-5 },
    },
    {
      name: "cast float32->int32",
      op: "cast",
      dtype: "int32",
      inputs: [f([8])],
      run: (x) => tidy(() => T.cast(T.mul(x, 3), "int32")),
      ref: (x) => R.cast(R.binary("mul", x, R.ref([], [3])), "int32"),
      grad: false,
    },
    {
      name: "cast float32->bool",
      op: "cast",
      dtype: "bool",
      inputs: [distinct([6])],
      run: (x) => tidy(() => T.cast(T.relu(x), "bool")),
      ref: (x) => R.cast(R.unary("relu", x), "bool"),
      grad: false,
    },
    {
      name: "cast int32->float32",
      op: "cast",
      dtype: "float32",
      inputs: [int([6])],
      run: (x) => T.cast(x, "float32"),
      ref: (x) => R.cast(x, "float32"),
      grad: false,
    },
    { name: "clone strided", op: "clone", dtype: "float32", inputs: [f([3, 4], "strided")], run: T.clone, ref: (x) => x },
    { name: "cast float32->float32 strided", op: "cast", dtype: "float32", inputs: [f([3, 4], "strided")], run: (x) => T.cast(x, "float32"), ref: (x) => x },
  ];
}

/**
 * Reductions whose kept axes are empty: like NumPy and PyTorch, the result is empty too, even
 * for max/min/argmax/argmin, which have no identity (an empty *reduced* axis is an error).
 * Reducing over an empty axis: sum 0, prod 1, mean NaN.
 */
const REDUCERS = { max: T.max, min: T.min, prod: T.prod, sum: T.sum, mean: T.mean } as const;

function emptyReductionCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const [op, shape, axes, keepdims] of [
    ["max", [3, 0, 7], [0, 2], true],
    ["min", [3, 0, 7], [0, 2], false],
    ["max", [0, 4], [1], false],
    ["prod", [2, 0, 3], [2], true],
    ["sum", [0, 5], [1], false],
    ["mean", [0, 5], [1], true],
    ["mean", [3, 0], [1], false],
    ["prod", [3, 0], [1], false],
  ] as Array<["max" | "min" | "prod" | "sum" | "mean", number[], number[], boolean]>) {
    out.push({
      name: `${op} ${fmt(shape)} axes ${fmt(axes)}${keepdims ? " keepdims" : ""} (empty)`,
      op,
      inputs: [f(shape)],
      run: (x) => REDUCERS[op](x, axes, keepdims),
      ref: (x) => R.reduce(op, x, axes, keepdims),
      dtype: "float32",
    });
  }
  for (const [op, shape, axis] of [
    ["argmax", [3, 0], 0],
    ["argmin", [0, 3], 1],
    ["argmax", [2, 0, 4], 2],
  ] as Array<["argmax" | "argmin", number[], number]>) {
    out.push({
      name: `${op} ${fmt(shape)} axis ${axis} (empty)`,
      op,
      inputs: [f(shape)],
      run: (x) => (op === "argmax" ? T.argmax(x, axis) : T.argmin(x, axis)),
      ref: (x) => (op === "argmax" ? R.argmax(x, axis) : R.argmin(x, axis)),
      dtype: "int32",
      grad: false,
    });
  }
  return out;
}

/** Every case of the catalogue. */
export function conformanceCases(): OpCase[] {
  return [
    ...unaryCases(),
    ...binaryCases(),
    ...whereCases(),
    ...reductionCases(),
    ...matmulCases(),
    ...convCases(),
    ...poolCases(),
    ...viewCases(),
    ...emptyReductionCases(),
  ];
}
