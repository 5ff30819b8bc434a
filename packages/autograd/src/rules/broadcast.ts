import { type Tensor, reshape, sum } from "@tessera/tensor";

/** Sums a broadcast gradient back down to `shape` (the inverse of NumPy broadcasting). */
export function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return reshape(g, shape);
  const s = sum(g, axes, true);
  const r = reshape(s, shape);
  s.dispose();
  return r;
}
