import * as T from "@tessera/tensor";
import { type Backend, RandomState, type Tensor, memory, registerBackend, removeBackend, setBackend } from "@tessera/tensor";
import { conformanceCases, conformanceSeed, gapOf, reference } from "@tessera/tensor/testing/portable";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grad, noGrad, valueAndGrad } from "../index.js";
import { checkGradientCase, differentiableInputs } from "./checks.js";
import { describeCapturedSteps } from "./captured-steps.js";

/** Options of `describeGradientConformance`. */
export interface GradientConformanceOptions {
  /** Backend name, shown in the suite's title (the suite registers the backend under a name made from it). */
  name: string;
  /** The backend factory the suite registers and activates before its tests. */
  create: () => Backend | Promise<Backend>;
  /** Known gaps: case name or op name -> reason. */
  gaps?: Readonly<Record<string, string>>;
  /** Seed of the random inputs (default: `TESSERA_CONFORMANCE_SEED`, else 1234); the suite's title shows it. */
  seed?: number;
  /** Training steps of the memory test (1,000 by default; fewer on slow backends). */
  memorySteps?: number;
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
        it(`d/dx ${c.name}`, () => checkGradientCase(backend, c, index, seed, options.name));
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

    describe("memory of grad, valueAndGrad and backward in tidy and noGrad", () => {
      const live = () => memory(backend).tensors;
      const bytes = () => memory(backend).bytes;
      const loss = (p: { a: Tensor; b: Tensor }) => T.tidy(() => T.sum(T.mul(T.tanh(p.a), p.b)));

      it("tidy frees what grad returns: one live tensor fewer per differentiated input and call than without tidy", () => {
        const p = { a: T.randn([3, 4]), b: T.randn([3, 4]) };
        const [tensors, used] = [live(), bytes()];
        for (let i = 0; i < 20; i++) {
          T.tidy(() => {
            grad(loss)(p);
          });
          expect([live(), bytes()]).toEqual([tensors, used]);
        }
        const kept = grad(loss)(p); // outside tidy the caller owns them
        expect(live()).toBe(tensors + 2);
        T.dispose([kept, p]);
      });

      it("tidy frees valueAndGrad's value and gradients, keeps what it returns, and nested tidies pass them up", async () => {
        const p = { a: T.randn([5]), b: T.randn([5]) };
        const tensors = live();
        const results = Array.from({ length: 10 }, () => T.tidy(() => valueAndGrad(loss)(p)));
        expect(live()).toBe(tensors + 3 * 10); // a returned result survives its tidy: the caller owns it
        T.dispose(results);
        const before = live();
        expect(before).toBe(tensors);
        T.tidy(() => {
          valueAndGrad(loss)(p);
        });
        expect(live()).toBe(before);
        const { value, grads } = T.tidy(() => T.tidy(() => valueAndGrad(loss)(p)));
        expect(live()).toBe(before + 3);
        const expected = reference.unary("tanh", reference.ref([5], await p.a.data()));
        reference.assertClose(await grads.b.data(), expected, { atol: 1e-6, rtol: 1e-5 }, "d/db of sum(tanh(a) * b)");
        expect(value.isDisposed || grads.a.isDisposed).toBe(false);
        const inner = T.tidy(() => {
          const kept = T.tidy(() => grad(loss)(p)); // returned by the inner tidy: alive in the outer one
          expect(kept.a.isDisposed).toBe(false);
          return T.add(kept.a, 1);
        });
        expect(live()).toBe(before + 4); // the outer tidy freed the inner one's gradients
        T.dispose([value, grads, inner]);
        expect(live()).toBe(before);
      });

      it("backward inside tidy keeps one .grad per leaf, accumulating without growth; the graph is freed", () => {
        const w = T.randn([4, 3]);
        w.requiresGrad = true;
        const x = T.randn([2, 4]);
        const tensors = live();
        T.tidy(() => T.sum(T.tanh(T.matmul(x, w))).backward());
        expect(live()).toBe(tensors + 1); // w.grad
        const used = bytes();
        for (let i = 0; i < 20; i++) {
          T.tidy(() => T.tidy(() => T.sum(T.tanh(T.matmul(x, w)))).backward()); // nested: the loss survives the inner tidy only
          expect([live(), bytes()]).toEqual([tensors + 1, used]);
        }
        T.dispose([w, x]);
      });

      it("noGrad: grad of a function computed under it says so and leaks nothing; backward inside it still works", () => {
        const p = { a: T.randn([3]), b: T.randn([3]) };
        const tensors = live();
        expect(() => noGrad(() => grad(loss)(p))).toThrow(/does not depend on x \(or was computed under noGrad\)/);
        expect(() => grad((q: typeof p) => noGrad(() => loss(q)))(p)).toThrow(/computed under noGrad/);
        expect(live()).toBe(tensors);
        const w = T.randn([3]);
        w.requiresGrad = true;
        const l = T.tidy(() => T.sum(T.square(w)));
        noGrad(() => T.tidy(() => l.backward()));
        expect(w.grad).not.toBeNull();
        T.dispose([l, w, p]);
        expect(live()).toBe(tensors - 2);
      });

      it("a gradient that does not depend on an input is zeros, freed by tidy like the others", async () => {
        const p = { a: T.randn([3]), b: T.randn([3]) };
        const tensors = live();
        const zeroA = T.tidy(() => {
          const g = grad((q: typeof p) => T.sum(q.b))(p);
          return g.a;
        });
        expect(Array.from(await zeroA.data())).toEqual([0, 0, 0]);
        expect(live()).toBe(tensors + 1);
        T.dispose([zeroA, p]);
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
