/**
 * Property-based conformance: random shapes (size-0 axes included), broadcast pairs, chains of
 * views and reductions, drawn by fast-check from a fixed seed and checked against the float64
 * reference. The catalogue (`cases.ts`) pins the cases someone thought of; these find the ones
 * nobody did. Every property disposes what it makes, and the suite checks that it did.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import type { Backend } from "../backend/contract.js";
import { type DType, promoteTypes } from "../dtype.js";
import { TesseraError } from "../errors.js";
import { memory } from "../memory/report.js";
import { dispose, tidy } from "../memory/scope.js";
import * as T from "../ops/index.js";
import { RandomState } from "../random/random-state.js";
import type { Tensor } from "../tensor.js";
import { ACCUMULATE_TOL, ELEMENTWISE_TOL } from "./cases.js";
import { type InputSpec, type Layout, type ValueKind, drawValues, makeInput } from "./inputs.js";
import * as R from "./reference.js";

/** How many random inputs each property tries, and from which seed. */
export interface PropertyOptions {
  seed: number;
  /** Runs per property (default 200, or TESSERA_PROPERTY_RUNS). */
  runs?: number;
}

const LAYOUTS: readonly Layout[] = ["contiguous", "transposed", "strided", "offset"];

/** A shape of rank 0-4 with dims 0-4: one dim in five is empty. */
const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 });

/** A layout the shape supports (transposed needs two axes, strided and offset one). */
function layoutFor(shape: readonly number[], pick: number): Layout {
  const ok = LAYOUTS.filter((l) => l === "contiguous" || (l === "transposed" ? shape.length >= 2 : shape.length >= 1));
  return ok[pick % ok.length]!;
}

/** An input tensor and its reference values, drawn from `seed`. */
function input(shape: readonly number[], kind: ValueKind, layoutPick: number, seed: number): { t: Tensor; r: R.RefArray } {
  const spec: InputSpec = { shape: [...shape], kind, layout: layoutFor(shape, layoutPick) };
  const r = drawValues(spec, new RandomState(seed));
  return { t: makeInput(r, spec), r };
}

/**
 * Broadcasting pairs: an output shape, and for each operand a suffix of it with some dims
 * replaced by 1; one pair in five is made incompatible on purpose (a dim changed to another
 * size), which the core must refuse exactly when the reference does.
 */
const broadcastPairArb = fc
  .record({
    out: shapeArb,
    dropA: fc.nat(4),
    dropB: fc.nat(4),
    onesA: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    onesB: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
    clash: fc.option(fc.nat(3), { freq: 4 }),
  })
  .map(({ out, dropA, dropB, onesA, onesB, clash }) => {
    const a = out.slice(Math.min(dropA, out.length)).map((d, i) => (onesA[i] ? 1 : d));
    const b = out.slice(Math.min(dropB, out.length)).map((d, i) => (onesB[i] ? 1 : d));
    if (clash !== null && a.length > 0) a[clash % a.length] = a[clash % a.length]! + 2;
    return { a, b };
  });

const BINARY: ReadonlyArray<[R.BinaryOp, (a: Tensor, b: Tensor) => Tensor]> = [
  ["add", T.add],
  ["sub", T.sub],
  ["mul", T.mul],
  ["maximum", T.maximum],
  ["minimum", T.minimum],
  ["greater", T.greater],
  ["equal", T.equal],
];

/** One step of a chain of views, with random numbers that `applyView` maps to valid arguments. */
type ViewStep = { kind: "permute" | "transpose" | "slice" | "split" | "merge" | "unsqueeze" | "squeeze" | "expand" | "flatten"; rolls: number[] };

const viewStepArb: fc.Arbitrary<ViewStep> = fc.record({
  kind: fc.constantFrom("permute", "transpose", "slice", "split", "merge", "unsqueeze", "squeeze", "expand", "flatten"),
  rolls: fc.array(fc.nat(1000), { minLength: 24, maxLength: 24 }), // enough for 3 per axis of a rank-8 view
});

/** Applies `step` to the tensor and to its reference; returns both results (the tensor is a new handle). */
function applyView(t: Tensor, r: R.RefArray, step: ViewStep): { t: Tensor; r: R.RefArray } {
  const rank = t.rank;
  const roll = step.rolls;
  const shape = t.shape;
  switch (step.kind) {
    case "permute": {
      const perm = Array.from({ length: rank }, (_, i) => i);
      for (let i = rank - 1; i > 0; i--) {
        const j = roll[i]! % (i + 1);
        [perm[i], perm[j]] = [perm[j]!, perm[i]!];
      }
      return { t: T.permute(t, perm), r: R.permute(r, perm) };
    }
    case "transpose": {
      if (rank < 2) return { t: T.transpose(t), r };
      const [a, b] = [roll[0]! % rank, roll[1]! % rank];
      const perm = Array.from({ length: rank }, (_, i) => (i === a ? b : i === b ? a : i));
      // negative axes half the time: both spellings must mean the same
      return { t: T.transpose(t, roll[2]! % 2 ? a - rank : a, b), r: R.permute(r, perm) };
    }
    case "slice": {
      const spec = shape.map((n, i) => {
        const span = n + 2;
        const start = (roll[3 * i]! % (2 * span + 1)) - span; // from -(n+2) to n+2: clamping too
        const end = (roll[3 * i + 1]! % (2 * span + 1)) - span;
        return { start, end, step: 1 + (roll[3 * i + 2]! % 3) };
      });
      return { t: T.slice(t, spec), r: R.slice(r, spec) };
    }
    case "split": {
      if (rank === 0 || rank >= 5) return { t: T.reshape(t, shape), r };
      const axis = roll[0]! % rank;
      const n = shape[axis]!;
      const divisors = n === 0 ? [0] : Array.from({ length: n }, (_, i) => i + 1).filter((d) => n % d === 0);
      const d = divisors[roll[1]! % divisors.length]!;
      const parts = n === 0 ? [1 + (roll[2]! % 3), 0] : [d, n / d];
      const target = [...shape.slice(0, axis), ...parts, ...shape.slice(axis + 1)];
      return { t: T.reshape(t, target), r: R.reshape(r, target) };
    }
    case "merge": {
      if (rank < 2) return { t: T.reshape(t, shape), r };
      const axis = roll[0]! % (rank - 1);
      const target = [...shape.slice(0, axis), shape[axis]! * shape[axis + 1]!, ...shape.slice(axis + 2)];
      return { t: T.reshape(t, target), r: R.reshape(r, target) };
    }
    case "unsqueeze": {
      if (rank >= 5) return { t: T.reshape(t, shape), r };
      const axis = (roll[0]! % (rank + 1)) - (roll[1]! % 2 ? rank + 1 : 0);
      const at = axis < 0 ? axis + rank + 1 : axis;
      const target = [...shape.slice(0, at), 1, ...shape.slice(at)];
      return { t: T.unsqueeze(t, axis), r: R.reshape(r, target) };
    }
    case "squeeze": {
      const target = shape.filter((d) => d !== 1);
      return { t: T.squeeze(t), r: R.reshape(r, target) };
    }
    case "expand": {
      const lead = rank < 4 ? roll[0]! % 2 : 0;
      const target = [...(lead ? [roll[1]! % 3] : []), ...shape.map((d, i) => (d === 1 ? roll[2 + i]! % 4 : d))];
      return { t: T.expand(t, target), r: R.expand(r, target) };
    }
    case "flatten": {
      if (rank === 0) return { t: T.flatten(t), r: R.reshape(r, [1]) };
      const a = roll[0]! % rank;
      const b = a + (roll[1]! % (rank - a));
      const target = [...shape.slice(0, a), shape.slice(a, b + 1).reduce((x, y) => x * y, 1), ...shape.slice(b + 1)];
      return { t: T.flatten(t, a, b), r: R.reshape(r, target) };
    }
  }
}

const REDUCERS = { sum: T.sum, prod: T.prod, max: T.max, min: T.min, mean: T.mean } as const;

/** A reduction: the op, which axes (null: all), keepdims, and negative axis spellings. */
const reductionArb = fc.record({
  shape: shapeArb,
  op: fc.constantFrom("sum", "prod", "max", "min", "mean", "argmax", "argmin"),
  axisRolls: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
  axisPick: fc.nat(3),
  all: fc.boolean(),
  negative: fc.boolean(),
  keepdims: fc.boolean(),
  layout: fc.nat(3),
  seed: fc.nat(),
});

async function expectMatches(t: Tensor, expected: R.RefArray, dtype: DType, tol: R.CloseTolerance, what: string): Promise<void> {
  expect(t.shape, `${what}: shape`).toEqual(expected.shape);
  expect(t.dtype, `${what}: dtype`).toBe(dtype);
  R.assertClose(await t.data(), expected, tol, what);
}

function throwsTesseraError(fn: () => unknown, pattern: RegExp): void {
  let error: unknown;
  try {
    dispose(fn());
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TesseraError);
  expect((error as Error).message).toMatch(pattern);
}

/** The reference's answer, or the fact that it refuses (NumPy would raise). */
function refOrRefusal(fn: () => R.RefArray): R.RefArray | "refused" {
  try {
    return fn();
  } catch {
    return "refused";
  }
}

/**
 * Registers the property tests for the backend `getBackend()` returns (the suite's, once its
 * `beforeAll` ran). Call inside a `describe` of `describeConformance`.
 */
export function registerProperties(getBackend: () => Backend, options: PropertyOptions): void {
  const env = typeof process !== "undefined" ? process.env.TESSERA_PROPERTY_RUNS : undefined;
  const runs = options.runs ?? (env ? Number(env) : 200);
  const params = { seed: options.seed, numRuns: runs };
  const flat = async (body: () => Promise<void>) => {
    const backend = getBackend();
    const before = memory(backend);
    await body();
    const after = memory(backend);
    expect([after.tensors, after.buffers, after.bytes]).toEqual([before.tensors, before.buffers, before.bytes]);
  };

  it(`broadcasting binary ops on random shapes, dtypes and layouts (${runs} runs)`, () =>
    flat(() =>
      fc.assert(
        fc.asyncProperty(
          broadcastPairArb,
          fc.nat(BINARY.length - 1),
          fc.boolean(),
          fc.boolean(),
          fc.nat(3),
          fc.nat(3),
          fc.nat(),
          async ({ a, b }, opIndex, intA, intB, layoutA, layoutB, seed) => {
            const [name, fn] = BINARY[opIndex]!;
            const x = input(a, intA ? "int" : "float", layoutA, seed);
            const y = input(b, intB ? "int" : "float", layoutB, seed + 1);
            try {
              const expected = refOrRefusal(() => R.binary(name, x.r, y.r));
              if (expected === "refused") {
                throwsTesseraError(() => fn(x.t, y.t), new RegExp(`^${name}: shapes .* do not broadcast`));
                return;
              }
              const out = fn(x.t, y.t);
              const dtype: DType = name === "greater" || name === "equal" ? "bool" : promoteTypes(x.t.dtype, y.t.dtype);
              try {
                await expectMatches(out, expected, dtype, ELEMENTWISE_TOL, `${name} ${JSON.stringify(a)} ${JSON.stringify(b)}`);
              } finally {
                out.dispose();
              }
            } finally {
              dispose([x.t, y.t]);
            }
          },
        ),
        params,
      ),
    ));

  it(`chains of views (permute, transpose, slice, reshape, squeeze, expand, flatten) read and compute like copies (${runs} runs)`, () =>
    flat(() =>
      fc.assert(
        fc.asyncProperty(shapeArb, fc.nat(3), fc.nat(), fc.array(viewStepArb, { minLength: 1, maxLength: 5 }), async (shape, layout, seed, steps) => {
          const x = input(shape, "float", layout, seed);
          const made: Tensor[] = [x.t];
          try {
            let { t, r } = x;
            for (const step of steps) {
              ({ t, r } = applyView(t, r, step));
              made.push(t);
            }
            const what = `${JSON.stringify(shape)} then ${steps.map((s) => s.kind).join(", ")}`;
            await expectMatches(t, r, "float32", { atol: 0, rtol: 0 }, `${what}: values`);
            // the strided view feeds a kernel as it is: elementwise, then a reduction of the last axis
            const one = R.ref([], [1]);
            const shifted = T.add(t, 1);
            made.push(shifted);
            await expectMatches(shifted, R.binary("add", r, one), "float32", ELEMENTWISE_TOL, `${what}: + 1`);
            if (t.rank > 0) {
              const summed = T.sum(t, -1);
              made.push(summed);
              await expectMatches(summed, R.reduce("sum", r, [-1]), "float32", ACCUMULATE_TOL, `${what}: sum over the last axis`);
            }
          } finally {
            dispose(made);
          }
        }),
        params,
      ),
    ));

  it(`reductions over random axes, with keepdims, of random shapes and layouts (${runs} runs)`, () =>
    flat(() =>
      fc.assert(
        fc.asyncProperty(reductionArb, async ({ shape, op, axisRolls, axisPick, all, negative, keepdims, layout, seed }) => {
          const rank = shape.length;
          const spell = (a: number) => (negative ? a - rank : a);
          const x = input(shape, "float", layout, seed);
          // prod: factors near 1, so 256 of them neither overflow nor underflow float32
          const values = op === "prod" ? tidy(() => T.add(T.mul(x.t, 0.1125), 1.025)) : x.t;
          const r = op === "prod" ? R.binary("add", R.binary("mul", x.r, R.ref([], [0.1125])), R.ref([], [1.025])) : x.r;
          const made = [x.t, values];
          try {
            if (op === "argmax" || op === "argmin") {
              const axis = all || rank === 0 ? undefined : spell(axisPick % rank);
              const expected = refOrRefusal(() => (op === "argmax" ? R.argmax(r, axis, keepdims) : R.argmin(r, axis, keepdims)));
              const run = () => (op === "argmax" ? T.argmax(values, axis, keepdims) : T.argmin(values, axis, keepdims));
              if (expected === "refused") return throwsTesseraError(run, new RegExp(`^${op}: cannot take ${op}`));
              const out = run();
              made.push(out);
              await expectMatches(out, expected, "int32", { atol: 0, rtol: 0 }, `${op} of ${JSON.stringify(shape)} axis ${axis}`);
              return;
            }
            const axes = all ? undefined : shape.flatMap((_, i) => (axisRolls[i] ? [spell(i)] : []));
            const expected = refOrRefusal(() => R.reduce(op, r, axes, keepdims));
            const run = () => REDUCERS[op](values, axes, keepdims);
            if (expected === "refused") return throwsTesseraError(run, new RegExp(`^${op}: cannot take ${op} over an empty axis`));
            const out = run();
            made.push(out);
            await expectMatches(out, expected, "float32", ACCUMULATE_TOL, `${op} of ${JSON.stringify(shape)} over ${JSON.stringify(axes)}`);
          } finally {
            dispose(made);
          }
        }),
        params,
      ),
    ));
}
