import { describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import "@tessera/autograd";
import * as T from "@tessera/tensor";
import type { Tensor } from "@tessera/tensor";
import { type RefArray, reference, withoutReadSync } from "@tessera/tensor/testing";
import { CrossEntropyLoss, MSELoss, type Module, NLLLoss, type Reduction, crossEntropyLoss, mseLoss, nllLoss } from "../src/index.js";
import { autogradOf, randomTensor, toRef, values } from "./helpers.js";

const TOL = { atol: 1e-5, rtol: 1e-5 };
const GRAD = { atol: 2e-4, rtol: 1e-3 };
const labels = [2, 0, 4, 4, 1];
const target = () => T.tensor(Int32Array.from(labels));

/** Reference per-example cross-entropy of logits [N, C]. */
function refPerExampleCE(logits: RefArray, ys: readonly number[]): RefArray {
  const lp = reference.logSoftmax(logits, 1);
  const C = logits.shape[1]!;
  return reference.ref(
    [ys.length],
    ys.map((y, n) => -lp.data[n * C + y]!),
  );
}

function refReduce(perExample: RefArray, reduction: Reduction): RefArray {
  if (reduction === "none") return perExample;
  return reference.reduce(reduction === "mean" ? "mean" : "sum", perExample);
}

describe("crossEntropyLoss", () => {
  it("mean equals the reference crossEntropy", () => {
    const x = randomTensor([5, 6], 1, -3, 3);
    const y = target();
    const loss = crossEntropyLoss(x, y);
    expect(loss.shape).toEqual([]);
    reference.assertClose([loss.item()], reference.crossEntropy(toRef(x), labels), TOL, "crossEntropy mean");
    T.dispose([x, y, loss]);
  });

  for (const reduction of ["mean", "sum", "none"] as const) {
    it(`reduction '${reduction}': value and gradient match the reference`, () => {
      const x = randomTensor([5, 6], 2, -3, 3);
      const y = target();
      const f = ([r]: RefArray[]) => refReduce(refPerExampleCE(r!, labels), reduction);
      const expected = f([toRef(x)]);
      const dy = reduction === "none" ? reference.ref([5], [1, -2, 0.5, 3, -1]) : reference.ref([], [1]);
      const { output, grads } = autogradOf(([t]) => crossEntropyLoss(t!, y, reduction), [x], dy);
      expect(output.length).toBe(reduction === "none" ? 5 : 1);
      reference.assertClose(output, expected, TOL, `crossEntropy ${reduction}`);
      reference.assertClose(grads[0]!, reference.numericGradient(f, [toRef(x)], dy)[0]!, GRAD, `crossEntropy ${reduction} gradient`);
      T.dispose([x, y]);
    });
  }

  it("gradient of the mean is (softmax - onehot) / N", () => {
    const x = randomTensor([5, 6], 3);
    const y = target();
    const { grads } = autogradOf(([t]) => crossEntropyLoss(t!, y), [x], reference.ref([], [1]));
    const sm = reference.softmax(toRef(x), 1);
    const oh = reference.oneHot(labels, 6);
    const expected = reference.binary("div", reference.binary("sub", sm, oh), reference.ref([], [5]));
    reference.assertClose(grads[0]!, expected, TOL, "d CE / d logits");
    T.dispose([x, y]);
  });

  it("is stable for large logits", () => {
    const x = T.tensor([
      [1000, -1000, 0],
      [-500, 500, 499],
    ]);
    const y = T.tensor(Int32Array.from([1, 1]));
    const loss = crossEntropyLoss(x, y, "none");
    reference.assertClose(values(loss), refPerExampleCE(toRef(x), [1, 1]), { atol: 1e-3, rtol: 1e-6 }, "large logits");
    expect(values(loss).every(Number.isFinite)).toBe(true);
    T.dispose([x, y, loss]);
  });
});

describe("nllLoss", () => {
  for (const reduction of ["mean", "sum", "none"] as const) {
    it(`reduction '${reduction}' picks -logProbs[n, y[n]] and has the right gradient`, () => {
      const x = randomTensor([5, 6], 4, -4, 0);
      const y = target();
      const perExample = (r: RefArray) =>
        reference.ref(
          [5],
          labels.map((c, n) => -r.data[n * 6 + c]!),
        );
      const f = ([r]: RefArray[]) => refReduce(perExample(r!), reduction);
      const dy = reduction === "none" ? reference.ref([5], [2, 1, -1, 0.5, 0.25]) : reference.ref([], [1]);
      const { output, grads } = autogradOf(([t]) => nllLoss(t!, y, reduction), [x], dy);
      reference.assertClose(output, f([toRef(x)]), TOL, `nll ${reduction}`);
      reference.assertClose(grads[0]!, reference.numericGradient(f, [toRef(x)], dy)[0]!, GRAD, `nll ${reduction} gradient`);
      T.dispose([x, y]);
    });
  }

  it("of logSoftmax equals crossEntropyLoss", () => {
    const x = randomTensor([5, 6], 5, -2, 2);
    const y = target();
    const lp = T.logSoftmax(x, 1);
    const [a, b] = [nllLoss(lp, y), crossEntropyLoss(x, y)];
    expect(a.item()).toBeCloseTo(b.item(), 6);
    T.dispose([x, y, lp, a, b]);
  });

  it("ignores -Infinity log-probabilities of classes that are not the target (as PyTorch does)", () => {
    // log(softmax) of a class with probability 0 is -Infinity; PyTorch's nll_loss only reads
    // logProbs[n, y[n]], so the loss is finite: here -log(0.5) for both rows.
    const lp = T.tensor([
      [Math.log(0.5), Math.log(0.5), -Infinity],
      [-Infinity, Math.log(0.5), Math.log(0.5)],
    ]);
    const y = T.tensor(Int32Array.from([0, 2]));
    const loss = nllLoss(lp, y, "none");
    expect(values(loss)).toEqual([Math.fround(Math.log(2)), Math.fround(Math.log(2))]);
    // The gradient is -1 at each target and 0 elsewhere, -Infinity entries included.
    const { grads } = autogradOf(([t]) => nllLoss(t!, y, "sum"), [lp], reference.ref([], [1]));
    expect(Array.from(grads[0]!)).toEqual([-1, 0, 0, 0, 0, -1]);
    T.dispose([lp, y, loss]);
  });
});

describe("mseLoss", () => {
  for (const reduction of ["mean", "sum", "none"] as const) {
    it(`reduction '${reduction}': value and gradients match the reference`, () => {
      const a = randomTensor([3, 4], 6);
      const b = randomTensor([3, 4], 7);
      const f = ([ra, rb]: RefArray[]) => {
        const d = reference.binary("sub", ra!, rb!);
        const sq = reference.binary("mul", d, d);
        return reduction === "none" ? sq : reference.reduce(reduction, sq);
      };
      const refs = [toRef(a), toRef(b)];
      const dy =
        reduction === "none"
          ? reference.ref(
              [3, 4],
              Array.from({ length: 12 }, (_, i) => (i % 5) - 2),
            )
          : reference.ref([], [1]);
      const { output, grads } = autogradOf(([x, t]) => mseLoss(x!, t!, reduction), [a, b], dy);
      reference.assertClose(output, f(refs), TOL, `mse ${reduction}`);
      const numeric = reference.numericGradient(f, refs, dy);
      reference.assertClose(grads[0]!, numeric[0]!, GRAD, `mse ${reduction} d/dinput`);
      reference.assertClose(grads[1]!, numeric[1]!, GRAD, `mse ${reduction} d/dtarget`);
      T.dispose([a, b]);
    });
  }

  it("hand-computed values", () => {
    const a = T.tensor([1, 2, 3]);
    const b = T.tensor([1, 0, 6]);
    const [mean, sum, none] = (["mean", "sum", "none"] as const).map((r) => mseLoss(a, b, r)) as [Tensor, Tensor, Tensor];
    expect(mean.item()).toBeCloseTo(13 / 3, 6);
    expect(sum.item()).toBe(13);
    expect(values(none)).toEqual([0, 4, 9]);
    T.dispose([a, b, mean, sum, none]);
  });
});

describe("loss errors", () => {
  it("names the loss, the expected and the actual shapes and dtypes", () => {
    const x = T.zeros([4, 3]);
    const y = T.tensor(Int32Array.from([0, 1, 2, 0]));
    const y3 = T.tensor(Int32Array.from([0, 1, 2]));
    const yf = T.tensor([0, 1, 2, 0]);
    const x3 = T.zeros([4, 3, 2]);
    expect(() => crossEntropyLoss(x3, y)).toThrow("crossEntropyLoss: input must be [N, C] scores, got [4,3,2]");
    expect(() => crossEntropyLoss(x, y3)).toThrow("crossEntropyLoss: target must be int32 class indices of shape [4], got [3] int32");
    expect(() => crossEntropyLoss(x, yf)).toThrow("crossEntropyLoss: target must be int32 class indices of shape [4], got [4] float32");
    expect(() => nllLoss(x, y3)).toThrow("nllLoss: target must be int32 class indices of shape [4], got [3] int32");
    expect(() => crossEntropyLoss(x, y, "avg" as Reduction)).toThrow('reduction must be mean, sum or none, got "avg"');
    expect(() => mseLoss(x, T.zeros([3, 4]))).toThrow("mseLoss: input [4,3] and target [3,4] must have the same shape");
    expect(() => mseLoss(x, x, "total" as Reduction)).toThrow('mseLoss: reduction must be mean, sum or none, got "total"');
    T.dispose([x, y, y3, yf, x3]);
  });
});

describe("loss modules", () => {
  it("CrossEntropyLoss / NLLLoss / MSELoss .call equal the functions, with their reduction", () => {
    const x = randomTensor([5, 6], 8);
    const y = target();
    const lp = T.logSoftmax(x, 1);
    const pairs: Array<[Tensor, Tensor]> = [
      [new CrossEntropyLoss().call(x, y), crossEntropyLoss(x, y)],
      [new CrossEntropyLoss("sum").call(x, y), crossEntropyLoss(x, y, "sum")],
      [new CrossEntropyLoss("none").call(x, y), crossEntropyLoss(x, y, "none")],
      [new NLLLoss("sum").call(lp, y), nllLoss(lp, y, "sum")],
      [new MSELoss("none").call(x, lp), mseLoss(x, lp, "none")],
      [new MSELoss().call(x, lp), mseLoss(x, lp)],
    ];
    for (const [a, b] of pairs) {
      expect(a.shape).toEqual(b.shape);
      expect(values(a)).toEqual(values(b));
    }
    expect(new MSELoss().reduction).toBe("mean");
    expect(new CrossEntropyLoss().parameters()).toEqual([]);
    T.dispose([x, y, lp, ...pairs.flat()]);
  });

  it("forward(x) explains that a loss takes (input, target)", () => {
    const x = T.zeros([1, 2]);
    expect(() => (new CrossEntropyLoss() as Module).forward(x)).toThrow("CrossEntropyLoss: a loss takes (input, target): use loss.call(input, target)");
    x.dispose();
  });
});

describe("targets outside [0, C)", () => {
  const losses: Array<[string, (x: Tensor, y: Tensor, r: Reduction) => Tensor, (x: Tensor) => Tensor]> = [
    ["crossEntropyLoss", crossEntropyLoss, (x) => x],
    ["nllLoss", nllLoss, (x) => T.logSoftmax(x, 1)],
  ];
  for (const [name, loss, input] of losses) {
    for (const reduction of ["mean", "sum", "none"] as const) {
      it(`${name} (${reduction}) throws for a class index past C and for a negative one, naming both, and frees everything`, () => {
        const before = T.memory().tensors;
        const x = randomTensor([3, 10], 4);
        const scores = input(x);
        for (const [bad, at] of [
          [12, 1],
          [-1, 2],
          [10, 0],
        ] as const) {
          const ys = [1, 4, 7];
          ys[at] = bad;
          const y = T.tensor(Int32Array.from(ys));
          const expected = new RegExp(`^${name}: target ${bad} at position ${at} is out of bounds for 10 classes \\(expected class indices in \\[0, 9\\]\\)`);
          expect(() => loss(scores, y, reduction)).toThrow(T.TesseraError);
          expect(() => loss(scores, y, reduction)).toThrow(expected);
          y.dispose();
        }
        T.dispose([x, scores]);
        expect(T.memory().tensors).toBe(before);
      });
    }
  }

  it("the loss modules refuse them too", () => {
    const x = randomTensor([2, 3], 5);
    const y = T.tensor(new Int32Array([0, 3]));
    expect(() => new CrossEntropyLoss().call(x, y)).toThrow(/^crossEntropyLoss: target 3 at position 1 is out of bounds for 3 classes/);
    expect(() => new NLLLoss("sum").call(x, y)).toThrow(/^nllLoss: target 3 at position 1 is out of bounds for 3 classes/);
    T.dispose([x, y]);
  });

  it("where the backend cannot read synchronously: targets made on the host are checked there", () => {
    const b = withoutReadSync(T.getBackend());
    const x = T.tensor(new Float32Array(6), { shape: [2, 3], backend: b });
    const y = T.tensor(new Int32Array([0, 5]), { backend: b });
    expect(() => crossEntropyLoss(x, y)).toThrow(/^crossEntropyLoss: target 5 at position 1 is out of bounds for 3 classes/);
    T.dispose([x, y]);
    expect(T.memory(b).tensors).toBe(0);
  });

  it("targets computed on such a device: a bad row's loss and gradient are NaN, the other rows exact", async () => {
    const b = withoutReadSync(T.getBackend());
    const host = randomTensor([3, 10], 6);
    const xs = toRef(host);
    const x = T.tensor(host.dataSync(), { shape: [3, 10], backend: b });
    x.requiresGrad = true;
    const base = T.tensor(new Int32Array([0, 11, 3]), { backend: b });
    const y = T.add(base, 1); // [1, 12, 4] on the device: the host has no copy
    expect(T.hostData(y)).toBeUndefined();
    const perRow = crossEntropyLoss(x, y, "none");
    const got = Array.from(await perRow.data());
    const ref = refPerExampleCE(xs, [1, 0, 4]);
    expect(Number.isNaN(got[1])).toBe(true);
    reference.assertClose([got[0]!, got[2]!], [ref.data[0]!, ref.data[2]!], TOL, "rows with valid targets");
    const mean = crossEntropyLoss(x, y);
    mean.backward();
    const g = await x.grad!.data();
    expect(Array.from(g.subarray(10, 20)).every(Number.isNaN)).toBe(true);
    expect(Array.from(g.subarray(0, 10)).every(Number.isFinite)).toBe(true);
    expect(Array.from(g.subarray(20, 30)).every(Number.isFinite)).toBe(true);
    T.dispose([host, x, base, y, perRow, mean]);
    expect(T.memory(b).tensors).toBe(0);
  });

  it("valid targets computed on such a device give the same loss and gradient as on the host", async () => {
    const b = withoutReadSync(T.getBackend());
    const host = randomTensor([4, 5], 7);
    const x = T.tensor(host.dataSync(), { shape: [4, 5], backend: b });
    const base = T.tensor(new Int32Array([0, 3, 1, 2]), { backend: b });
    const y = T.add(base, 1); // [1, 4, 2, 3]
    const dy = reference.ref([], [1]);
    const f = ([r]: RefArray[]) => refReduce(refPerExampleCE(r!, [1, 4, 2, 3]), "mean");
    x.requiresGrad = true;
    const loss = crossEntropyLoss(x, y);
    loss.backward();
    reference.assertClose(await loss.data(), f([toRef(host)]), TOL, "device-path loss");
    reference.assertClose(await x.grad!.data(), reference.numericGradient(f, [toRef(host)], dy)[0]!, GRAD, "device-path gradient");
    T.dispose([host, x, base, y, loss]);
    expect(T.memory(b).tensors).toBe(0);
  });
});
