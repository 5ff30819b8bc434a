import "@tessera/backend-cpu";
import * as T from "@tessera/tensor";
import { describe, expect, it } from "vitest";
import { detach, grad, isGradEnabled, noGrad, requireGrad, valueAndGrad, zeroGrad } from "../src/index.js";

const values = async (t: T.Tensor) => Array.from(await t.data());

describe("backward() and .grad", () => {
  it("fills .grad of leaves that require it, and accumulates over calls", async () => {
    const x = requireGrad(T.tensor([1, 2, 3]));
    const c = T.tensor([2, 2, 2]); // a constant: gets no gradient
    T.tidy(() => T.sum(T.mul(x, c)).backward());
    expect(await values(x.grad!)).toEqual([2, 2, 2]);
    expect(c.grad).toBeNull();
    T.tidy(() => T.sum(T.mul(x, x)).backward());
    expect(await values(x.grad!)).toEqual([4, 6, 8]);
    zeroGrad([x]);
    expect(x.grad).toBeNull();
    T.dispose([x, c]);
  });

  it("keeps .grad alive outside tidy and frees the tape after backward", () => {
    const before = T.memory().tensors;
    const w = requireGrad(T.randn([4, 4]));
    T.tidy(() => {
      const loss = T.sum(T.tanh(T.matmul(w, w)));
      loss.backward();
    });
    expect(w.grad?.isDisposed).toBe(false);
    expect(T.memory().tensors).toBe(before + 2); // w and w.grad
    w.dispose();
    expect(T.memory().tensors).toBe(before);
  });

  it("a graph survives tidy when its result is returned, and is freed when that result is disposed", () => {
    const before = T.memory().tensors;
    const w = requireGrad(T.randn([3]));
    const loss = T.tidy(() => T.sum(T.exp(T.mul(w, 2))));
    loss.backward();
    expect(w.grad).not.toBeNull();
    const again = T.tidy(() => T.sum(T.exp(w)));
    again.dispose(); // never differentiated: disposing the root frees its saved tensors
    T.dispose([loss, w]);
    expect(T.memory().tensors).toBe(before);
  });

  it("retainGraph allows a second backward", async () => {
    const x = requireGrad(T.tensor([3]));
    const y = T.mul(x, x);
    const { backward } = await import("../src/backward.js");
    backward(y, undefined, { retainGraph: true });
    backward(y);
    expect(await values(x.grad!)).toEqual([12]);
    expect(() => backward(y)).toThrow(/already freed/);
    T.dispose([x, y]);
  });

  it("tensor.backward takes { retainGraph }, with or without a gradient", async () => {
    const x = requireGrad(T.tensor([3]));
    const y = T.mul(x, x);
    y.backward({ retainGraph: true });
    y.backward(T.tensor([0.5]), { retainGraph: true });
    y.backward();
    expect(await values(x.grad!)).toEqual([15]); // (1 + 0.5 + 1) * 2x
    expect(() => y.backward()).toThrow(/already freed/);
    T.dispose([x, y]);
  });

  it("gradients stay on the inputs' backend, the active one or not, through an empty slice too", async () => {
    // The active backend under another identity: to the core, a second backend.
    const active = T.getBackend();
    const other = new Proxy(active, {
      get(target, key) {
        const v = Reflect.get(target, key, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const x = requireGrad(
      T.tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { backend: other },
      ),
    );
    const loss = T.tidy(() => T.add(T.sum(x), T.sum(T.slice(x, [{ start: 2 }]))));
    loss.backward();
    expect(x.grad!.backend).toBe(other);
    expect(await values(x.grad!)).toEqual([1, 1, 1, 1]);
    T.dispose([x.grad, x, loss]);
  });

  it("needs an explicit gradient for non-scalar roots, of the right shape", () => {
    const x = requireGrad(T.ones([2]));
    const y = T.mul(x, 3);
    expect(() => y.backward()).toThrow(/^backward: a gradient can be implicit only for a one-element tensor, got shape \[2\]/);
    expect(() => y.backward(T.ones([3]))).toThrow(/gradient has shape \[3\] but the tensor has \[2\]/);
    y.backward(T.tensor([1, 10]));
    expect(x.grad!.dataSync()).toEqual(new Float32Array([3, 30]));
    T.dispose([x, y]);
  });

  it("says when nothing requires gradients", () => {
    const y = T.sum(T.ones([2]));
    expect(() => y.backward()).toThrow(/does not require gradients/);
    y.dispose();
  });
});

describe("functional API", () => {
  it("grad follows the structure of its first argument", async () => {
    const f = (p: { a: T.Tensor; b: [T.Tensor] }) => T.sum(T.mul(p.a, p.b[0]));
    const g = grad(f)({ a: T.tensor([1, 2]), b: [T.tensor([3, 4])] });
    expect(await values(g.a)).toEqual([3, 4]);
    expect(await values(g.b[0])).toEqual([1, 2]);
  });

  it("valueAndGrad returns the value; inputs that do not matter get zeros", async () => {
    const f = (xs: T.Tensor[]) => T.sum(T.square(xs[0]!));
    const { value, grads } = valueAndGrad(f)([T.tensor([1, -2]), T.tensor([5])]);
    expect(await values(value)).toEqual([5]);
    expect(await values(grads[0]!)).toEqual([2, -4]);
    expect(await values(grads[1]!)).toEqual([0]);
  });

  it("leaves .grad of the arguments untouched", () => {
    const x = requireGrad(T.tensor([1, 2]));
    grad((v: T.Tensor) => T.sum(v))(x);
    expect(x.grad).toBeNull();
    x.dispose();
  });

  it("refuses non-scalar results and results that do not depend on x", () => {
    expect(() => grad((v: T.Tensor) => T.mul(v, 2))(T.ones([2]))).toThrow(/^grad: f must return a one-element tensor, got shape \[2\]/);
    expect(() => grad((_: T.Tensor) => T.sum(T.ones([2])))(T.ones([2]))).toThrow(/does not depend on x/);
  });
});

describe("noGrad and detach", () => {
  it("noGrad records nothing", () => {
    const x = requireGrad(T.ones([2]));
    const y = noGrad(() => T.mul(x, 2));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradNode).toBeNull();
    const w = T.mul(x, 4);
    expect(w.requiresGrad).toBe(true);
    T.dispose([x, y, w]);
  });

  it("noGrad refuses an async function: recording is global and must not stay off across an await", async () => {
    const x = requireGrad(T.ones([2]));
    let resume!: () => void;
    const paused = new Promise<void>((r) => {
      resume = r;
    });
    expect(() => noGrad(async () => paused)).toThrow(/^noGrad: the function returned a Promise; noGrad covers synchronous work only/);
    // Unrelated work while that promise is pending is recorded as usual.
    expect(isGradEnabled()).toBe(true);
    const w = T.mul(x, 4);
    expect(w.requiresGrad).toBe(true);
    resume();
    await paused;
    expect(() => noGrad(() => Promise.reject(new Error("late")))).toThrow(/^noGrad: the function returned a Promise/);
    T.dispose([x, w]);
  });

  it("detach cuts the graph", async () => {
    const x = requireGrad(T.tensor([2]));
    const loss = T.tidy(() => T.sum(T.mul(x, detach(T.mul(x, x)))));
    loss.backward();
    expect(await values(x.grad!)).toEqual([4]); // d/dx (x * c) with c = x² held constant
    T.dispose([x, loss]);
  });
});

describe("work that backward skips and the layout of gradients", () => {
  it("does not compute gradients nobody asked for (a network's input images)", () => {
    const kernels = T.getBackend().kernels!;
    const original = kernels.conv2dBackwardInput!;
    let inputGradients = 0;
    (kernels as { conv2dBackwardInput: typeof original }).conv2dBackwardInput = (...args) => {
      inputGradients++;
      original(...args);
    };
    try {
      const w = requireGrad(T.randn([3, 2, 3, 3]));
      const x = T.randn([2, 2, 6, 6]); // data: no gradient wanted
      T.tidy(() => T.sum(T.conv2d(x, w)).backward());
      expect(w.grad?.shape).toEqual([3, 2, 3, 3]);
      expect(inputGradients).toBe(0);
      // through a second convolution the first one's output does need its gradient
      const w2 = requireGrad(T.randn([2, 3, 3, 3]));
      T.tidy(() => T.sum(T.conv2d(T.conv2d(x, w), w2)).backward());
      expect(inputGradients).toBe(1);
      T.dispose([w, x, w2]);
    } finally {
      (kernels as { conv2dBackwardInput: typeof original }).conv2dBackwardInput = original;
    }
  });

  it("gives a weight used transposed (x · Wᵀ) a contiguous gradient equal to the plain one", async () => {
    const w = requireGrad(T.randn([5, 3]));
    const x = T.randn([4, 3]);
    T.tidy(() => T.sum(T.mul(T.matmul(x, T.transpose(w)), T.arange(20, { dtype: "float32" }).reshape([4, 5]))).backward());
    expect(w.grad!.isContiguous).toBe(true);
    // dL/dW = gᵀ · x with g = arange(20) as [4, 5]
    const want = T.tidy(() => T.matmul(T.transpose(T.arange(20, { dtype: "float32" }).reshape([4, 5])), x));
    const [got, ref] = [await values(w.grad!), await values(want)];
    got.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 4));
    T.dispose([w, x, want]);
  });
});
