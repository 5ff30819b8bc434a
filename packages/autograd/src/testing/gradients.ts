import * as T from "@tessera/tensor";
import { type Backend, RandomState, type Tensor, memory, registerBackend, removeBackend, setBackend } from "@tessera/tensor";
import { type OpCase, caseInputs, conformanceCases, conformanceSeed, dtypeOfKind, gapOf, makeInput, reference } from "@tessera/tensor/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grad, valueAndGrad } from "../index.js";
import { describeCapturedSteps } from "./captured-steps.js";
import { noGrad } from "../index.js";

/**
 * Float32 analytic gradients against float64 central differences of the reference: the analytic
 * side accumulates float32 rounding over a few ops, so it is held to |a-e| <= 2e-4 + 2e-3*|e|.
 */
export const GRADIENT_TOL = { atol: 2e-4, rtol: 2e-3 };

/** Options of `describeGradientConformance`. */
export interface GradientConformanceOptions {
  name: string;
  create: () => Backend | Promise<Backend>;
  /** Known gaps: case name or op name -> reason. */
  gaps?: Readonly<Record<string, string>>;
  seed?: number;
  /** Training steps of the memory test (1,000 by default; fewer on slow backends). */
  memorySteps?: number;
}

/** The inputs of a case that its gradient check differentiates. */
export function differentiableInputs(c: OpCase): number[] {
  if (c.grad === false) return [];
  return c.grad ?? c.inputs.flatMap((s, i) => (dtypeOfKind(s.kind ?? "float") === "float32" ? [i] : []));
}

/**
 * Registers vitest suites that check every differentiable case of the conformance catalogue
 * against numeric gradients, the errors for non-differentiable ops, and flat memory over
 * training steps, on one backend.
 */
export function describeGradientConformance(options: GradientConformanceOptions): void {
  const seed = conformanceSeed(options.seed);
  const registryName = `gradients-${options.name}`;
  describe(`gradient conformance: ${options.name} (seed ${seed})`, () => {
    let backend: Backend;
    beforeAll(async () => {
      registerBackend(registryName, options.create, -100);
      backend = await setBackend(registryName);
    });
    afterAll(async () => {
      await removeBackend(registryName);
    });

    describe("numeric gradient checks", () => {
      conformanceCases().forEach((c, index) => {
        const wrt = differentiableInputs(c);
        if (wrt.length === 0) return;
        const gap = gapOf(c, options.gaps);
        if (gap) {
          it.skip(`d/dx ${c.name} [gap: ${gap}]`, () => {});
          return;
        }
        it(`d/dx ${c.name}`, async () => {
          const before = memory(backend).tensors;
          const refs = caseInputs(c, index, seed);
          const inputs = refs.map((r, i) => makeInput(r, c.inputs[i]!));
          const outShape = c.ref(...refs).shape;
          const rng = new RandomState((seed + index * 31) >>> 0);
          const dyRef = reference.ref(
            outShape,
            Array.from(
              rng.uniform(
                -1,
                1,
                outShape.reduce((a, b) => a * b, 1),
              ),
              Math.fround,
            ),
          );
          const dy = T.tensor(dyRef.data, { shape: outShape });
          const f = (vars: Tensor[]) =>
            T.tidy(() => {
              const all = inputs.map((t, i) => (wrt.includes(i) ? vars[wrt.indexOf(i)]! : t));
              return T.sum(T.mul(c.run(...all), dy));
            });
          const grads = grad(f)(wrt.map((i) => inputs[i]!));
          // Only the differentiated inputs are perturbed (index inputs must stay integers). Cases
          // at ties or NaNs, where central differences mean nothing, give the exact gradient.
          const refOf = (xs: reference.RefArray[]) => c.ref(...refs.map((r, i) => (wrt.includes(i) ? xs[wrt.indexOf(i)]! : r)));
          const numeric = c.vjp
            ? c.vjp(dyRef, ...refs)
            : reference.numericGradient(
                refOf,
                wrt.map((i) => refs[i]!),
                dyRef,
              );
          for (const [k, i] of wrt.entries()) {
            expect(grads[k]!.shape).toEqual(c.inputs[i]!.shape);
            reference.assertClose(await grads[k]!.data(), numeric[k]!, GRADIENT_TOL, `d/d(input ${i}) of ${c.name} on ${options.name}`);
          }
          T.dispose([grads, inputs, dy]);
          expect(memory(backend).tensors).toBe(before);
        });
      });
    });

    describe("non-differentiable ops say so", () => {
      const cases: Array<[string, (x: Tensor) => Tensor, RegExp]> = [
        ["argmax", (x) => T.cast(T.argmax(x, 1), "float32"), /argmax is not differentiable \(its output is an integer index\)/],
        ["comparison", (x) => T.cast(T.greater(x, 0), "float32"), /greater is not differentiable \(comparisons return bool\)/],
        ["integer cast", (x) => T.cast(T.cast(x, "int32"), "float32"), /cast is not differentiable \(casting to int32/],
      ];
      for (const [name, fn, pattern] of cases) {
        it(name, () => {
          const x = T.randn([2, 3]);
          expect(() => grad((v: Tensor) => T.sum(fn(v)))(x)).toThrow(pattern);
          x.dispose();
        });
      }
      it("backward twice without retainGraph", () => {
        const x = T.randn([3]);
        x.requiresGrad = true;
        const y = T.sum(T.tanh(x));
        y.backward();
        expect(() => y.backward()).toThrow(/already freed/);
        T.dispose([x, y]);
      });
      it("backward({ retainGraph: true }) keeps the graph for a second call", async () => {
        const x = T.tensor([0.5, -1, 2]);
        x.requiresGrad = true;
        const y = T.sum(T.mul(x, x));
        y.backward({ retainGraph: true });
        y.backward(T.tensor(2), { retainGraph: true });
        y.backward();
        expect(Array.from(await x.grad!.data())).toEqual([4, -8, 16]); // (1 + 2 + 1) * 2x
        expect(() => y.backward()).toThrow(/already freed/);
        T.dispose([x, x.grad, y]);
      });
    });

    describe("captured training steps", () => describeCapturedSteps(() => backend));

    describe("training", () => {
      it("a two-layer network overfits a fixed batch", async () => {
        const rng = new RandomState(7);
        const x = T.tensor(rng.normal(0, 1, 16 * 4), { shape: [16, 4] });
        const y = T.tensor(Int32Array.from({ length: 16 }, (_, i) => i % 3));
        const params = {
          w1: T.tensor(rng.uniform(-0.5, 0.5, 4 * 32), { shape: [4, 32] }),
          b1: T.zeros([32]),
          w2: T.tensor(rng.uniform(-0.5, 0.5, 32 * 3), { shape: [32, 3] }),
          b2: T.zeros([3]),
        };
        const loss = (p: typeof params) =>
          T.tidy(() => {
            const h = T.tanh(T.add(T.matmul(x, p.w1), p.b1));
            const logits = T.add(T.matmul(h, p.w2), p.b2);
            return T.neg(T.mean(T.sum(T.mul(T.logSoftmax(logits), T.oneHot(y, 3)), 1)));
          });
        const step = valueAndGrad(loss);
        let last = Infinity;
        for (let i = 0; i < 800; i++) {
          const { value, grads } = step(params);
          last = (await value.data())[0]!;
          noGrad(() => {
            for (const k of Object.keys(params) as Array<keyof typeof params>) params[k].assign(T.tidy(() => T.sub(params[k], T.mul(grads[k], 0.5))));
          });
          T.dispose([value, grads]);
        }
        expect(last).toBeLessThan(0.01);
        T.dispose([x, y, params]);
      });

      it("live tensors and bytes stay flat over training steps of a small conv net", () => {
        const steps = options.memorySteps ?? 1000;
        const rng = new RandomState(3);
        const x = T.tensor(rng.normal(0, 1, 4 * 1 * 8 * 8), { shape: [4, 1, 8, 8] });
        const y = T.tensor(new Int32Array([0, 1, 2, 1]));
        const w = T.tensor(rng.uniform(-0.3, 0.3, 3 * 1 * 3 * 3), { shape: [3, 1, 3, 3] });
        const v = T.tensor(rng.uniform(-0.3, 0.3, 27 * 3), { shape: [27, 3] });
        w.requiresGrad = true;
        v.requiresGrad = true;
        const counts: number[] = [];
        const bytes: number[] = [];
        for (let i = 0; i < steps; i++) {
          T.tidy(() => {
            const h = T.tanh(T.maxPool2d(T.conv2d(x, w), { kernelSize: 2 }));
            const logits = T.matmul(T.reshape(h, [4, 27]), v);
            const loss = T.neg(T.mean(T.sum(T.mul(T.logSoftmax(logits), T.oneHot(y, 3)), 1)));
            loss.backward();
            noGrad(() => {
              for (const p of [w, v]) {
                p.assign(T.sub(p, T.mul(p.grad!, 0.1)));
                p.grad!.dispose();
                p.grad = null;
              }
            });
          });
          counts.push(memory(backend).tensors);
          bytes.push(memory(backend).bytes);
        }
        expect(new Set(counts).size).toBe(1);
        expect(new Set(bytes).size).toBe(1);
        T.dispose([x, y, w, v]);
      });
    });
  });
}
