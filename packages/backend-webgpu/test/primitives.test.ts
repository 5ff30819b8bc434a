/**
 * The contract's primitives (copy, unary, binary, where, reduce) on small strided and broadcast
 * cases, against values computed in plain JS here.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { BinaryOp, DType, ReduceOp, StridedView, UnaryOp } from "../src/contract.js";
import { at, dense, expectClose, indices, tryBackend, upload } from "./helpers.js";

const { backend, reason } = await tryBackend();
const b = backend!;

const f32 = Math.fround;
/** JS reference of a value after storing it as `dtype`. */
function as(dtype: DType, v: number): number {
  return dtype === "float32" ? f32(v) : dtype === "int32" ? v | 0 : v !== 0 ? 1 : 0;
}

/** Reads a strided view of host data into row-major order. */
function gatherView(data: ArrayLike<number>, v: Omit<StridedView, "buffer">): number[] {
  return [...indices(v.shape)].map((idx) => at(data, v, idx));
}

const UNARY: Record<UnaryOp, (v: number) => number> = {
  neg: (v) => -v,
  abs: Math.abs,
  sign: (v) => (v > 0 ? 1 : v < 0 ? -1 : v),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  relu: (v) => (Number.isNaN(v) ? v : Math.max(v, 0)),
  floor: Math.floor,
  ceil: Math.ceil,
  sin: Math.sin,
  cos: Math.cos,
  logicalNot: (v) => (v === 0 ? 1 : 0),
};

function cPow(a: number, e: number): number {
  if (a === 1) return 1;
  if (a === -1 && !Number.isFinite(e) && !Number.isNaN(e)) return 1;
  return a ** e;
}

const BINARY: Record<BinaryOp, (a: number, c: number) => number> = {
  add: (a, c) => a + c,
  sub: (a, c) => a - c,
  mul: (a, c) => a * c,
  div: (a, c) => a / c,
  pow: cPow,
  maximum: Math.max,
  minimum: Math.min,
  equal: (a, c) => (a === c ? 1 : 0),
  notEqual: (a, c) => (a !== c ? 1 : 0),
  less: (a, c) => (a < c ? 1 : 0),
  lessEqual: (a, c) => (a <= c ? 1 : 0),
  greater: (a, c) => (a > c ? 1 : 0),
  greaterEqual: (a, c) => (a >= c ? 1 : 0),
  logicalAnd: (a, c) => (a !== 0 && c !== 0 ? 1 : 0),
  logicalOr: (a, c) => (a !== 0 || c !== 0 ? 1 : 0),
};
const COMPARISONS = new Set<BinaryOp>(["equal", "notEqual", "less", "lessEqual", "greater", "greaterEqual", "logicalAnd", "logicalOr"]);

describe.skipIf(!backend)(`webgpu primitives${backend ? "" : ` (skipped: no WebGPU adapter: ${reason})`}`, () => {
  afterAll(() => backend?.dispose());

  describe("copy", () => {
    it("copies a transposed view of every dtype", async () => {
      for (const dtype of ["float32", "int32", "bool"] as const) {
        const data = Array.from({ length: 12 }, (_, i) => (dtype === "bool" ? i % 3 === 0 : i * 1.5 - 4)).map(Number);
        const src = upload(b, dtype, data);
        const dst = b.alloc(12, dtype);
        const view = { shape: [4, 3], strides: [1, 4], offset: 0 };
        b.copy({ buffer: src, ...view }, dense(dst, [4, 3]));
        expect(Array.from(await b.read(dst))).toEqual(
          gatherView(
            data.map((v) => as(dtype, v)),
            view,
          ),
        );
        b.free(src);
        b.free(dst);
      }
    });

    it("converts between dtypes (float -> int truncates and wraps, anything -> bool is != 0)", async () => {
      const values = [1.7, -1.7, 0, -0, Number.NaN, Number.POSITIVE_INFINITY, 3e9, -3e9, 2147483520, 0.4];
      const src = upload(b, "float32", values);
      const toInt = b.alloc(values.length, "int32");
      const toBool = b.alloc(values.length, "bool");
      b.copy(dense(src, [values.length]), dense(toInt, [values.length]));
      b.copy(dense(src, [values.length]), dense(toBool, [values.length]));
      expect(Array.from(await b.read(toInt))).toEqual(values.map((v) => f32(v) | 0));
      expect(Array.from(await b.read(toBool))).toEqual(values.map((v) => (v !== 0 ? 1 : 0)));
      const ints = upload(b, "int32", [-5, 0, 16777217, 2]);
      const back = b.alloc(4, "float32");
      const ib = b.alloc(4, "bool");
      b.copy(dense(ints, [4]), dense(back, [4]));
      b.copy(dense(ints, [4]), dense(ib, [4]));
      expect(Array.from(await b.read(back))).toEqual([-5, 0, 16777216, 2]);
      expect(Array.from(await b.read(ib))).toEqual([1, 0, 1, 1]);
      const bools = upload(b, "bool", [1, 0, 1]);
      const bf = b.alloc(3, "float32");
      b.copy(dense(bools, [3]), dense(bf, [3]));
      expect(Array.from(await b.read(bf))).toEqual([1, 0, 1]);
      for (const t of [src, toInt, toBool, ints, back, ib, bools, bf]) b.free(t);
    });

    it("writes into a strided destination and reads a broadcast source", async () => {
      const src = upload(b, "float32", [7, 8, 9]);
      const dst = upload(b, "float32", new Array(12).fill(0));
      // dst viewed as [2,3] inside a [3,4] buffer (rows 1..2, columns 1..3, column-major walk);
      // src broadcast along the first dimension.
      b.copy({ buffer: src, shape: [2, 3], strides: [0, 1], offset: 0 }, { buffer: dst, shape: [2, 3], strides: [4, 1], offset: 5 });
      expect(Array.from(await b.read(dst))).toEqual([0, 0, 0, 0, 0, 7, 8, 9, 0, 7, 8, 9]);
      b.free(src);
      b.free(dst);
    });

    it("handles rank 9 with non-collapsible dims and negative strides", async () => {
      const shape = [2, 1, 2, 2, 1, 2, 2, 1, 2];
      const n = shape.reduce((x, y) => x * y);
      const data = Array.from({ length: n }, (_, i) => i);
      const src = upload(b, "int32", data);
      // a permutation-like stride pattern with one reversed axis
      const strides = [1, 64, 2, 8, 64, 4, 32, 64, 16];
      const view = { shape, strides: strides.map((s, d) => (d === 3 ? -s : s)), offset: 8 };
      const dst = b.alloc(n, "int32");
      b.copy({ buffer: src, ...view }, dense(dst, shape));
      expect(Array.from(await b.read(dst))).toEqual(gatherView(data, view));
      b.free(src);
      b.free(dst);
    });

    it("walks long innermost rows in runs (permuted source, rows not a multiple of the run)", async () => {
      const shape = [3, 4, 19];
      const n = 3 * 4 * 19;
      const data = Array.from({ length: n }, (_, i) => i * 0.5 - 7);
      const src = upload(b, "float32", data);
      // [4,3,19] storage viewed as [3,4,19] (first two axes swapped), then a broadcast innermost axis.
      const view = { shape, strides: [19, 57, 1], offset: 0 };
      const dst = b.alloc(n, "float32");
      b.copy({ buffer: src, ...view }, dense(dst, shape));
      expect(Array.from(await b.read(dst))).toEqual(gatherView(data, view));
      const bview = { shape, strides: [1, 3, 0], offset: 0 };
      const sum = b.alloc(n, "float32");
      b.binary("add", dense(dst, shape), { buffer: src, ...bview }, sum);
      const expected = gatherView(data, view).map((v, i) => v + gatherView(data, bview)[i]!);
      expect(Array.from(await b.read(sum))).toEqual(expected);
      for (const t of [src, dst, sum]) b.free(t);
    });

    it("copies within one buffer (source and destination alias)", async () => {
      const buf = upload(b, "float32", [1, 2, 3, 4, 0, 0, 0, 0]);
      b.copy({ buffer: buf, shape: [4], strides: [1], offset: 0 }, { buffer: buf, shape: [4], strides: [1], offset: 4 });
      expect(Array.from(await b.read(buf))).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
      b.free(buf);
    });
  });

  describe("unary", () => {
    const values = [0, -0, 0.3, 1.5, -2.5, 3, -4, 20, -20, 100, -100, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const op of Object.keys(UNARY) as UnaryOp[]) {
      if (op === "logicalNot") continue;
      it(`${op} on float32 (strided input)`, async () => {
        // The input is a transposed [2,7] view of a [7,2] buffer.
        const data = values;
        const x = upload(b, "float32", data);
        const view = { shape: [2, 7], strides: [1, 2], offset: 0 };
        const out = b.alloc(14, "float32");
        b.unary(op, { buffer: x, ...view }, out);
        const expected = gatherView(data, view).map((v) => f32(UNARY[op](f32(v))));
        expectClose(await b.read(out), expected, ["sin", "cos", "exp", "tanh", "sigmoid", "log"].includes(op) ? 2e-6 : 0, op);
        b.free(x);
        b.free(out);
      });
    }

    it("int32 ops keep the dtype; neg and abs wrap at the minimum", async () => {
      const data = [0, 5, -7, 2147483647, -2147483648];
      const x = upload(b, "int32", data);
      for (const op of ["neg", "abs", "sign", "relu", "floor", "ceil"] as const) {
        const out = b.alloc(5, "int32");
        b.unary(op, dense(x, [5]), out);
        expect(Array.from(await b.read(out)), op).toEqual(data.map((v) => UNARY[op](v) | 0));
        b.free(out);
      }
      b.free(x);
    });

    it("logicalNot on bool, and transcendental ops on int32 input written to float32", async () => {
      const x = upload(b, "bool", [1, 0, 0, 1]);
      const out = b.alloc(4, "bool");
      b.unary("logicalNot", { buffer: x, shape: [2, 2], strides: [1, 2], offset: 0 }, out);
      expect(Array.from(await b.read(out))).toEqual([0, 1, 1, 0]);
      const i = upload(b, "int32", [1, 4]);
      const f = b.alloc(2, "float32");
      b.unary("sqrt", dense(i, [2]), f);
      expect(Array.from(await b.read(f))).toEqual([1, 2]);
      for (const t of [x, out, i, f]) b.free(t);
    });
  });

  describe("binary", () => {
    // a: [2,3,4] as a permuted view of a [4,3,2] buffer; c: [3] broadcast to [2,3,4] with an offset.
    const aData = Array.from({ length: 24 }, (_, i) => ((i * 7) % 11) - 5 + (i % 3) * 0.25);
    const cData = [9, 2, -1.5, 0.5];
    const aView = { shape: [2, 3, 4], strides: [1, 2, 6], offset: 0 };
    const cView = { shape: [2, 3, 4], strides: [0, 1, 0], offset: 1 };
    for (const op of Object.keys(BINARY) as BinaryOp[]) {
      it(`${op} on float32 with strides and broadcasting`, async () => {
        const a = upload(b, "float32", aData);
        const c = upload(b, "float32", cData);
        const outDtype: DType = COMPARISONS.has(op) ? "bool" : "float32";
        const out = b.alloc(24, outDtype);
        b.binary(op, { buffer: a, ...aView }, { buffer: c, ...cView }, out);
        const expected = [...indices(aView.shape)].map((idx) => as(outDtype, BINARY[op](f32(at(aData, aView, idx)), f32(at(cData, cView, idx)))));
        expectClose(await b.read(out), expected, op === "pow" ? 4e-6 : 1e-7, op);
        b.free(a);
        b.free(c);
        b.free(out);
      });
    }

    it("NaN semantics: maximum/minimum propagate, notEqual is true, comparisons false", async () => {
      const nan = Number.NaN;
      const a = upload(b, "float32", [nan, 1, nan, 0]);
      const c = upload(b, "float32", [1, nan, nan, nan]);
      const check = async (op: BinaryOp, dtype: DType) => {
        const out = b.alloc(4, dtype);
        b.binary(op, dense(a, [4]), dense(c, [4]), out);
        const got = Array.from(await b.read(out));
        b.free(out);
        return got;
      };
      expect((await check("maximum", "float32")).every(Number.isNaN)).toBe(true);
      expect((await check("minimum", "float32")).every(Number.isNaN)).toBe(true);
      expect(await check("notEqual", "bool")).toEqual([1, 1, 1, 1]);
      expect(await check("equal", "bool")).toEqual([0, 0, 0, 0]);
      expect(await check("less", "bool")).toEqual([0, 0, 0, 0]);
      expect(await check("greaterEqual", "bool")).toEqual([0, 0, 0, 0]);
      expect(await check("logicalAnd", "bool")).toEqual([1, 1, 1, 0]);
      b.free(a);
      b.free(c);
    });

    it("pow follows C99 at its edge cases", async () => {
      const pairs: Array<[number, number]> = [
        [-2, 3],
        [-2, 2],
        [-2, 0.5],
        [0, -1],
        [0, 2],
        [-0, 3],
        [1, Number.NaN],
        [Number.NaN, 0],
        [-1, Number.POSITIVE_INFINITY],
        [2, 10],
        [4, 0.5],
        [2, -2],
        [10, 5],
        [-8, 1 / 3],
        [Number.POSITIVE_INFINITY, -1],
        [0.5, Number.POSITIVE_INFINITY],
        [-3, -3],
      ];
      const a = upload(
        b,
        "float32",
        pairs.map((p) => p[0]),
      );
      const c = upload(
        b,
        "float32",
        pairs.map((p) => p[1]),
      );
      const out = b.alloc(pairs.length, "float32");
      b.binary("pow", dense(a, [pairs.length]), dense(c, [pairs.length]), out);
      const got = await b.read(out);
      expectClose(
        got,
        pairs.map(([x, y]) => f32(cPow(f32(x), f32(y)))),
        2e-6,
        "pow",
      );
      expect(Object.is(got[5], -0)).toBe(true);
      for (const t of [a, c, out]) b.free(t);
    });

    it("int32 arithmetic wraps like C int32", async () => {
      const a = upload(b, "int32", [2147483647, 65536, -2147483648, -7, 7]);
      const c = upload(b, "int32", [1, 65536, -1, 2, -3]);
      for (const [op, f] of [
        ["add", (x: number, y: number) => (x + y) | 0],
        ["sub", (x: number, y: number) => (x - y) | 0],
        ["mul", (x: number, y: number) => Math.imul(x, y)],
        ["maximum", Math.max],
        ["minimum", Math.min],
      ] as const) {
        const out = b.alloc(5, "int32");
        b.binary(op, dense(a, [5]), dense(c, [5]), out);
        expect(Array.from(await b.read(out)), op).toEqual([2147483647, 65536, -2147483648, -7, 7].map((x, i) => f(x, [1, 65536, -1, 2, -3][i]!)));
        b.free(out);
      }
      const lt = b.alloc(5, "bool");
      b.binary("less", dense(a, [5]), dense(c, [5]), lt);
      expect(Array.from(await b.read(lt))).toEqual([0, 0, 1, 1, 0]);
      for (const t of [a, c, lt]) b.free(t);
    });

    it("bool logical ops and equality", async () => {
      const a = upload(b, "bool", [0, 0, 1, 1]);
      const c = upload(b, "bool", [0, 1, 0, 1]);
      for (const [op, expected] of [
        ["logicalAnd", [0, 0, 0, 1]],
        ["logicalOr", [0, 1, 1, 1]],
        ["equal", [1, 0, 0, 1]],
        ["notEqual", [0, 1, 1, 0]],
      ] as const) {
        const out = b.alloc(4, "bool");
        b.binary(op, dense(a, [4]), dense(c, [4]), out);
        expect(Array.from(await b.read(out)), op).toEqual(expected);
        b.free(out);
      }
      b.free(a);
      b.free(c);
    });

    it("x op x binds the buffer once", async () => {
      const x = upload(b, "float32", [1, 2, 3]);
      const out = b.alloc(3, "float32");
      b.binary("mul", dense(x, [3]), dense(x, [3]), out);
      expect(Array.from(await b.read(out))).toEqual([1, 4, 9]);
      b.binary("add", dense(x, [3]), dense(x, [3]), x); // in place: the output aliases both inputs
      expect(Array.from(await b.read(x))).toEqual([2, 4, 6]);
      b.free(x);
      b.free(out);
    });
  });

  describe("where", () => {
    it("selects with a broadcast condition and a scalar branch", async () => {
      const cond = upload(b, "bool", [1, 0, 1, 0, 0, 1]); // [2,1,3]
      const aData = Array.from({ length: 24 }, (_, i) => i);
      const a = upload(b, "float32", aData); // [2,4,3]
      const s = upload(b, "float32", [-1]);
      const out = b.alloc(24, "float32");
      const shape = [2, 4, 3];
      b.where({ buffer: cond, shape, strides: [3, 0, 1], offset: 0 }, dense(a, shape), { buffer: s, shape, strides: [0, 0, 0], offset: 0 }, out);
      const expected = [...indices(shape)].map(([i, j, k]) => ([1, 0, 1, 0, 0, 1][i! * 3 + k!] ? aData[(i! * 4 + j!) * 3 + k!]! : -1));
      expect(Array.from(await b.read(out))).toEqual(expected);
      for (const t of [cond, a, s, out]) b.free(t);
    });

    it("works on int32 and bool values", async () => {
      const cond = upload(b, "bool", [1, 0, 1]);
      for (const dtype of ["int32", "bool"] as const) {
        const a = upload(b, dtype, [5, 1, -7]);
        const c = upload(b, dtype, [0, 3, 0]);
        const out = b.alloc(3, dtype);
        b.where(dense(cond, [3]), dense(a, [3]), dense(c, [3]), out);
        expect(Array.from(await b.read(out))).toEqual([as(dtype, 5), as(dtype, 3), as(dtype, -7)]);
        for (const t of [a, c, out]) b.free(t);
      }
      b.free(cond);
    });
  });

  describe("reduce", () => {
    function refReduce(op: ReduceOp, data: ArrayLike<number>, outer: number, inner: number): number[] {
      const out: number[] = [];
      for (let r = 0; r < outer; r++) {
        const row = Array.from({ length: inner }, (_, j) => data[r * inner + j]!);
        switch (op) {
          case "sum":
            out.push(row.reduce((x, y) => x + y, 0));
            break;
          case "prod":
            out.push(row.reduce((x, y) => x * y, 1));
            break;
          case "max":
            out.push(row.reduce((x, y) => Math.max(x, y), Number.NEGATIVE_INFINITY));
            break;
          case "min":
            out.push(row.reduce((x, y) => Math.min(x, y), Number.POSITIVE_INFINITY));
            break;
          case "argmax":
          case "argmin": {
            let best = 0;
            for (let j = 1; j < inner; j++) {
              const v = row[j]!;
              const bv = row[best]!;
              if (Number.isNaN(bv)) break;
              if (Number.isNaN(v) || (op === "argmax" ? v > bv : v < bv)) best = j;
            }
            out.push(best);
          }
        }
      }
      return out;
    }

    async function check(op: ReduceOp, dtype: DType, data: number[], outer: number, inner: number, tol = 1e-6) {
      const x = upload(b, dtype, data);
      const outDtype = op === "argmax" || op === "argmin" ? "int32" : dtype;
      const out = b.alloc(outer, outDtype);
      b.reduce(op, x, outer, inner, out);
      const expected = refReduce(
        op,
        data.map((v) => as(dtype, v)),
        outer,
        inner,
      ).map((v) => as(outDtype, v));
      if (dtype === "int32" && op === "sum") expectClose(await b.read(out), expected, 0, `${op} ${outer}x${inner}`);
      else expectClose(await b.read(out), expected, tol, `${op} ${dtype} ${outer}x${inner}`);
      b.free(x);
      b.free(out);
    }

    const ops: ReduceOp[] = ["sum", "prod", "max", "min", "argmax", "argmin"];
    const small = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37) % 17) / 4 - 2);

    for (const op of ops) {
      it(`${op}: small rows, float32 and int32`, async () => {
        await check(op, "float32", small(15), 3, 5);
        await check(
          op,
          "int32",
          small(15).map((v) => Math.round(v * 4)),
          3,
          5,
        );
      });
      it(`${op}: many short rows (one thread per row)`, async () => {
        await check(
          op,
          "float32",
          small(300 * 7).map((v) => (op === "prod" ? 1 + v / 16 : v)),
          300,
          7,
          1e-5,
        );
      });
      it(`${op}: long rows (one workgroup per row)`, async () => {
        await check(
          op,
          "float32",
          small(3 * 1000).map((v) => (op === "prod" ? 1 + v / 4000 : v)),
          3,
          1000,
          1e-5,
        );
      });
    }

    it("sum, max and min over very long rows (split into chunks, two passes)", async () => {
      const data = Array.from({ length: 2 * 40000 }, (_, i) => Math.sin(i) * 3);
      await check("sum", "float32", data, 2, 40000, 1e-4);
      await check("max", "float32", data, 2, 40000);
      await check("min", "float32", data, 2, 40000);
      await check(
        "prod",
        "float32",
        data.map((v) => (v > 0 ? 1 : -1)),
        2,
        40000,
      );
      await check("argmax", "float32", data, 2, 40000);
      await check(
        "sum",
        "int32",
        data.map((v) => Math.round(v * 1000)),
        2,
        40000,
      );
    });

    it("more rows than maxComputeWorkgroupsPerDimension (2-D grid of row workgroups)", async () => {
      const outer = b.device.limits.maxComputeWorkgroupsPerDimension + 100;
      const inner = 65; // long enough for one workgroup per row
      const x = b.alloc(outer * inner, "float32");
      b.fill(x, 0.5);
      const out = b.alloc(outer, "float32");
      b.reduce("sum", x, outer, inner, out);
      const got = await b.read(out);
      expect(got[0]).toBe(32.5);
      expect(got[outer - 1]).toBe(32.5);
      b.free(x);
      b.free(out);
    });

    it("argmax/argmin: the first extreme wins ties, the first NaN wins outright", async () => {
      const row = new Array(1000).fill(0);
      row[500] = 5;
      row[700] = 5;
      row[100] = -5;
      row[900] = -5;
      await check("argmax", "float32", row, 1, 1000);
      await check("argmin", "float32", row, 1, 1000);
      const withNaN = [...row];
      withNaN[800] = Number.NaN;
      withNaN[850] = Number.NaN;
      await check("argmax", "float32", withNaN, 1, 1000);
      await check("argmin", "float32", withNaN, 1, 1000);
      await check("argmax", "float32", [1, Number.NaN, 3, Number.NaN], 1, 4);
    });

    it("max and min propagate NaN", async () => {
      await check("max", "float32", [1, Number.NaN, 3, 4, 5, 6], 2, 3);
      await check("min", "float32", [1, 2, 3, 4, 5, Number.NaN], 2, 3);
    });

    it("an empty reduction writes the identity", async () => {
      for (const [op, value] of [
        ["sum", 0],
        ["prod", 1],
        ["max", Number.NEGATIVE_INFINITY],
        ["min", Number.POSITIVE_INFINITY],
      ] as const) {
        const x = b.alloc(0, "float32");
        const out = b.alloc(3, "float32");
        b.reduce(op, x, 3, 0, out);
        expect(Array.from(await b.read(out)), op).toEqual([value, value, value]);
        b.free(x);
        b.free(out);
      }
    });
  });
});
