/**
 * The gradient check of one op case, without a test runner: the vitest suites
 * (`describeGradientConformance`) and browser harnesses run the same code.
 */
import * as T from "@tessera/tensor";
import { type Backend, RandomState, type Tensor, memory } from "@tessera/tensor";
import { type OpCase, caseInputs, dtypeOfKind, makeInput, reference } from "@tessera/tensor/testing/portable";
import { grad } from "../index.js";

/**
 * Float32 analytic gradients against float64 central differences of the reference: the analytic
 * side accumulates float32 rounding over a few ops, so it is held to |a-e| <= 2e-4 + 2e-3*|e|.
 */
export const GRADIENT_TOL = { atol: 2e-4, rtol: 2e-3 };

/** The inputs of a case that its gradient check differentiates. */
export function differentiableInputs(c: OpCase): number[] {
  if (c.grad === false) return [];
  return c.grad ?? c.inputs.flatMap((s, i) => (dtypeOfKind(s.kind ?? "float") === "float32" ? [i] : []));
}

/**
 * Checks the gradient of case `index` on the active backend (`backend`) against central
 * differences of the float64 reference (or the case's exact gradient at ties and NaNs), and
 * that it leaves no tensor behind; throws an Error saying what differs.
 */
export async function checkGradientCase(backend: Backend, c: OpCase, index: number, seed: number, label: string): Promise<void> {
  const wrt = differentiableInputs(c);
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
    const shape = grads[k]!.shape.join(",");
    if (shape !== c.inputs[i]!.shape.join(","))
      throw new Error(`d/d(input ${i}) of ${c.name} on ${label}: shape [${shape}], expected [${c.inputs[i]!.shape.join(",")}]`);
    reference.assertClose(await grads[k]!.data(), numeric[k]!, GRADIENT_TOL, `d/d(input ${i}) of ${c.name} on ${label}`);
  }
  T.dispose([grads, inputs, dy]);
  const after = memory(backend).tensors;
  if (after !== before) throw new Error(`d/dx ${c.name} on ${label}: ${after - before} tensors left behind`);
}
