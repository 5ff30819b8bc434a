import { TesseraError, fmtShape } from "../errors.js";
import { normalizeAxis } from "../shape.js";
import { type Tensor, emptyTensor } from "../tensor.js";
import { asTensor } from "./convert.js";
import { castIfNeeded } from "./elementwise.js";
import { recordOp } from "./record.js";
import { unsqueeze } from "./views.js";

/** Pads every axis with `value`: `pads[i] = [before, after]` for axis i (one pair per axis). */
export function pad(x: Tensor, pads: readonly (readonly [number, number])[], value = 0): Tensor {
  const t = asTensor(x, "pad");
  if (!Array.isArray(pads) || pads.length !== t.rank || pads.some((p) => !Array.isArray(p) || p.length !== 2 || p.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new TesseraError(
      "pad",
      `expected ${t.rank} pairs [before, after] of non-negative integers for shape ${fmtShape(t.shape)}, got ${JSON.stringify(pads)}`,
    );
  }
  const norm = pads.map((p) => [p[0], p[1]] as [number, number]);
  return recordOp("pad", [t], { pads: norm, value }, () => {
    const shape = t.shape.map((d, i) => d + norm[i]![0] + norm[i]![1]);
    const out = emptyTensor(t.backend, shape, t.dtype);
    if (out.size === 0) return out;
    t.backend.fill(out.storage.buffer, value);
    if (t.size > 0) {
      let offset = 0;
      for (let i = 0; i < t.rank; i++) offset += norm[i]![0] * out.strides[i]!;
      t.backend.copy(t.view(), { buffer: out.storage.buffer, shape: t.shape, strides: out.strides, offset });
    }
    return out;
  });
}

/** Joins tensors along an existing axis; all other dims must match. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  const op = "concat";
  if (!Array.isArray(xs) || xs.length === 0) throw new TesseraError(op, "expected a non-empty array of tensors");
  const ts = xs.map((x) => asTensor(x, op));
  const first = ts[0]!;
  const a = normalizeAxis(op, axis, first.rank);
  for (const [i, t] of ts.entries()) {
    if (t.rank !== first.rank || t.shape.some((d, j) => j !== a && d !== first.shape[j])) {
      throw new TesseraError(
        op,
        `tensor ${i} has shape ${fmtShape(t.shape)}, expected ${fmtShape(first.shape.map((d, j) => (j === a ? -1 : d)))} (-1: any) along axis ${a}`,
      );
    }
    if (t.dtype !== first.dtype) throw new TesseraError(op, `tensor ${i} is ${t.dtype} but tensor 0 is ${first.dtype}`);
    if (t.backend !== first.backend) throw new TesseraError(op, `tensor ${i} lives on '${t.backend.name}', tensor 0 on '${first.backend.name}'`);
  }
  return recordOp(op, ts, { axis: a, sizes: ts.map((t) => t.shape[a]!) }, () => {
    const shape = [...first.shape];
    shape[a] = ts.reduce((s, t) => s + t.shape[a]!, 0);
    const out = emptyTensor(first.backend, shape, first.dtype);
    let start = 0;
    for (const t of ts) {
      if (t.size > 0) {
        const c = castIfNeeded(t, out.dtype);
        first.backend.copy(c.view(), { buffer: out.storage.buffer, shape: t.shape, strides: out.strides, offset: start * out.strides[a]! });
      }
      start += t.shape[a]!;
    }
    return out;
  });
}

/** Joins same-shaped tensors along a new axis. */
export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!xs || xs.length === 0) throw new TesseraError("stack", "expected a non-empty array of tensors");
  const first = xs[0]!;
  for (const [i, t] of xs.entries()) {
    if (t.rank !== first.rank || t.shape.some((d, j) => d !== first.shape[j])) {
      throw new TesseraError("stack", `tensor ${i} has shape ${fmtShape(t.shape)} but tensor 0 has ${fmtShape(first.shape)}`);
    }
  }
  const a = normalizeAxis("stack", axis, first.rank + 1);
  const parts = xs.map((t) => unsqueeze(t, a));
  try {
    return concat(parts, a);
  } finally {
    for (const p of parts) p.dispose();
  }
}
