import type { Pool2dParams, Shape4 } from "@tessera/tensor";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { maxPool2d, maxPool2dBackward } from "../src/kernels/pool.js";
import { Arena, createSharedMemory, createWasmKernels, WASM_BINARY, WASM_UNARY, type WasmKernels } from "../src/wasm/index.js";
import { fillRandom } from "./helpers.js";

/** float64 definitions of the ops, the reference each kernel is held to. */
const UNARY_REF: Record<(typeof WASM_UNARY)[number], (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sqrt: Math.sqrt,
  exp: Math.exp,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (Number.isNaN(x) ? x : Math.max(x, 0)),
};
const BINARY_REF: Record<(typeof WASM_BINARY)[number], (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b)),
  minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b)),
};

/** Elements that differ in bits, counting any two NaNs as equal (their payloads may differ). */
function mismatches(x: Float32Array, y: Float32Array): number {
  const a = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const b = new Uint32Array(y.buffer, y.byteOffset, y.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(x[i]!) && Number.isNaN(y[i]!))) n++;
  return n;
}

/** Relative error allowed per op (in f32 ulps of the result, about 6e-8 each). */
const ULPS: Partial<Record<string, number>> = { exp: 4, tanh: 4, sigmoid: 4 };

/** Inputs spanning the ranges where each formula switches, plus the special values. */
function probeValues(): Float32Array {
  const v: number[] = [0, -0, 1e-30, -1e-30, 1e-7, 0.3, 0.6249, 0.625, 0.6251, 1, 2.5, 8.99, 9, 9.01, 20, 80, 88.7, 88.8, 100, -87.3, -87.4, -104, -200];
  v.push(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN);
  for (let i = 0; i < 4000; i++) v.push((i - 2000) / 100); // [-20, 20) in steps of 0.01
  for (let i = 0; i < 200; i++) v.push(-(10 ** (-8 + i / 25)), 10 ** (-8 + i / 25));
  return Float32Array.from(v, (x) => Math.fround(x));
}

function checkClose(op: string, got: number, x: number, want: number): void {
  if (Number.isNaN(want)) {
    expect(Number.isNaN(got), `${op}(${x}) = ${got}, expected NaN`).toBe(true);
    return;
  }
  if (!Number.isFinite(want)) {
    expect(got, `${op}(${x})`).toBe(want);
    return;
  }
  // a few subnormal ulps of absolute slack: results below 2^-126 have fewer bits
  const tol = (ULPS[op] ?? 0.5) * 2 ** -23 * Math.abs(want) + 1e-44;
  expect(Math.abs(got - want), `${op}(${x}) = ${got}, expected ${want}`).toBeLessThanOrEqual(tol);
}

/**
 * Kernels on one and two threads sharing an arena, started before and stopped after the
 * enclosing describe; the two-thread ones split every job, however small, so chunked paths run.
 */
function kernelsOnOneAndTwoThreads(): { arena: Arena; one: () => WasmKernels; two: () => WasmKernels } {
  const arena = new Arena(createSharedMemory());
  let one: WasmKernels;
  let two: WasmKernels;
  beforeAll(async () => {
    one = await createWasmKernels({ arena, threads: 1 });
    two = await createWasmKernels({ arena, threads: 2, parallelMinFlops: 0 });
  });
  afterAll(async () => {
    await one.dispose();
    await two.dispose();
  });
  return { arena, one: () => one, two: () => two };
}

describe("wasm elementwise kernels", () => {
  const { arena, one, two } = kernelsOnOneAndTwoThreads();

  function block(values: Float32Array | number): { ptr: number; view: Float32Array } {
    const n = typeof values === "number" ? values : values.length;
    const ptr = arena.alloc(Math.max(n, 1) * 4);
    const view = arena.f32view(ptr, n);
    if (typeof values === "number") view.fill(Number.NaN);
    else view.set(values);
    return { ptr, view };
  }

  for (const op of WASM_UNARY) {
    test(`${op} matches float64 within ${ULPS[op] ?? 0.5} ulp, special values included, on 1 and 2 threads`, () => {
      const values = probeValues();
      const x = block(values);
      for (const k of [one(), two()]) {
        const out = block(values.length);
        k.unary(op, values.length, x.ptr, out.ptr);
        for (let i = 0; i < values.length; i++) checkClose(op, out.view[i]!, values[i]!, Math.fround(UNARY_REF[op](values[i]!)));
        // an odd length and an unaligned start take the one-lane path for the tail
        const tail = block(7);
        k.unary(op, 7, x.ptr + 4, tail.ptr);
        expect(mismatches(tail.view, out.view.subarray(1, 8))).toBe(0);
      }
    });
  }

  for (const op of WASM_BINARY) {
    test(`${op}: every stride pattern (contiguous, scalar a, scalar b), exact`, () => {
      const n = 1031;
      const a = block(n);
      const b = block(n);
      fillRandom(a.view, 1);
      fillRandom(b.view, 2);
      for (let i = 0; i < n; i++) b.view[i] = b.view[i]! + (i % 3 === 0 ? 0.5 : 0); // no zero divisors
      a.view[5] = Number.NaN;
      for (const k of [one(), two()]) {
        for (const [sa, sb] of [
          [1, 1],
          [0, 1],
          [1, 0],
          [0, 0],
        ] as const) {
          const out = block(n);
          k.binary(op, n, a.ptr, sa, b.ptr, sb, out.ptr);
          for (let i = 0; i < n; i++) {
            const want = Math.fround(BINARY_REF[op](a.view[sa * i]!, b.view[sb * i]!));
            if (Number.isNaN(want)) expect(Number.isNaN(out.view[i]!)).toBe(true);
            else expect(out.view[i]).toBe(want);
          }
        }
      }
    });
  }

  test("strided and short rows get exactly the bits of a contiguous run (any view, any op)", () => {
    const n = 61;
    const x = block(probeValues().subarray(0, 3 * n));
    const y = block(3 * n);
    for (const k of [one(), two()]) {
      for (const op of WASM_UNARY) {
        const run = block(n);
        const stridedOut = block(n);
        k.exports[`unary_${op}`](n, x.ptr, 3, stridedOut.ptr);
        // the same elements, gathered, as one contiguous run
        const gathered = block(Float32Array.from({ length: n }, (_, i) => x.view[3 * i]!));
        k.unary(op, n, gathered.ptr, run.ptr);
        expect(mismatches(stridedOut.view, run.view), op).toBe(0);
      }
      for (const op of WASM_BINARY) {
        fillRandom(y.view, 3);
        const stridedOut = block(n);
        k.exports[`binary_${op}`](n, x.ptr, 3, y.ptr, 2, stridedOut.ptr);
        const run = block(n);
        const ga = block(Float32Array.from({ length: n }, (_, i) => x.view[3 * i]!));
        const gb = block(Float32Array.from({ length: n }, (_, i) => y.view[2 * i]!));
        k.binary(op, n, ga.ptr, 1, gb.ptr, 1, run.ptr);
        expect(mismatches(stridedOut.view, run.view), op).toBe(0);
      }
    }
  });

  test("sum_rows: rows of every length mod 32, long rows within float32 rounding of float64", () => {
    for (const n of [1, 3, 4, 7, 31, 32, 33, 255, 256, 257, 1000, 288000]) {
      const rows = n > 1000 ? 2 : 5;
      const x = block(rows * n);
      fillRandom(x.view, n);
      const out = block(rows);
      one().sumRows(rows, n, x.ptr, out.ptr);
      for (let r = 0; r < rows; r++) {
        let want = 0;
        let scale = 0;
        for (let i = 0; i < n; i++) {
          want += x.view[r * n + i]!;
          scale += Math.abs(x.view[r * n + i]!);
        }
        // f32 blocks of 256 summed in f64: error grows with the block, not the row
        expect(Math.abs(out.view[r]! - want)).toBeLessThanOrEqual(1e-6 * scale + 1e-6);
      }
    }
  });
});

describe("wasm max pooling", () => {
  const { arena, one, two } = kernelsOnOneAndTwoThreads();

  const pool = (k: number, s: number, p = 0, ceilMode = false): Pool2dParams => ({ kernel: [k, k], stride: [s, s], padding: [p, p], ceilMode });
  const CASES: Array<{ name: string; x: Shape4; y: Shape4; p: Pool2dParams }> = [
    { name: "LeNet's first pool (2x2 SIMD kernel)", x: [3, 5, 24, 24], y: [3, 5, 12, 12], p: pool(2, 2) },
    { name: "LeNet's second pool (2x2 SIMD kernel)", x: [4, 7, 8, 8], y: [4, 7, 4, 4], p: pool(2, 2) },
    { name: "2x2 on an odd size (general kernel)", x: [2, 3, 9, 9], y: [2, 3, 4, 4], p: pool(2, 2) },
    { name: "2x2 ceil mode, last window partial", x: [2, 2, 9, 9], y: [2, 2, 5, 5], p: pool(2, 2, 0, true) },
    { name: "3x3 stride 2 padding 1 (overlapping windows)", x: [2, 3, 11, 10], y: [2, 3, 6, 5], p: pool(3, 2, 1) },
  ];

  for (const c of CASES) {
    test(`${c.name}: forward and gradient equal the reference bit for bit, ties and NaN included`, () => {
      const nx = c.x.reduce((a, b) => a * b, 1);
      const ny = c.y.reduce((a, b) => a * b, 1);
      const x = arena.alloc(nx * 4);
      const xv = arena.f32view(x, nx);
      fillRandom(xv, 7);
      // ties (quantised values, -0 next to +0 among them) and a few NaNs
      for (let i = 0; i < nx; i++) xv[i] = Math.round(xv[i]! * 3) / 3;
      for (let i = 0; i < nx; i += 11) xv[i] = -0;

      for (let i = 0; i < nx; i += 37) xv[i] = Number.NaN;
      const dy = arena.alloc(ny * 4);
      const dyv = arena.f32view(dy, ny);
      fillRandom(dyv, 8);
      const wantY = new Float32Array(ny);
      const wantDx = new Float32Array(nx);
      maxPool2d(xv, c.x, wantY, c.y, c.p);
      maxPool2dBackward(xv, c.x, dyv, c.y, wantDx, c.p);
      for (const k of [one(), two()]) {
        const y = arena.alloc(ny * 4);
        const dx = arena.alloc(nx * 4);
        arena.f32view(dx, nx).fill(Number.NaN);
        k.maxPool2d(x, c.x, y, c.y, c.p);
        k.maxPool2d(x, c.x, dy, c.y, c.p, dx);
        expect(mismatches(arena.f32view(y, ny), wantY)).toBe(0);
        expect(mismatches(arena.f32view(dx, nx), wantDx)).toBe(0);
      }
    });
  }
});
