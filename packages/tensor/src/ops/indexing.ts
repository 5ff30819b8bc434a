import { TesseraError, fmtShape } from "../errors.js";
import { contiguousStrides, normalizeAxis, sizeOf } from "../shape.js";
import { type Tensor, emptyTensor, viewTensor } from "../tensor.js";
import { gatherFallback } from "../fallbacks/gather.js";
import { arange } from "./creation.js";
import { asTensor } from "./convert.js";
import { cast, contiguousCopy, equal } from "./elementwise.js";
import { recordOp } from "./record.js";
import { unsqueeze } from "./views.js";

/**
 * Index-select: picks entries of `x` along `axis` by a 1-D int32 `indices` tensor (values in
 * [0, n)). The result replaces dim `axis` by `indices.size`.
 *
 * Out-of-range indices throw wherever the host sees their values without waiting for the
 * device: on backends with `readSync`, and for indices made from host data (`tensor`, `arange`,
 * `randint`, `to`) on the others. Indices computed on a device that cannot read synchronously
 * are not checked (that would stall its queue): there an out-of-range index selects zeros.
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  const op = "gather";
  const t = asTensor(x, op);
  const idx = asTensor(indices, op);
  const a = normalizeAxis(op, axis, t.rank);
  if (idx.rank !== 1 || idx.dtype !== "int32") {
    throw new TesseraError(op, `indices must be a 1-D int32 tensor, got ${fmtShape(idx.shape)} ${idx.dtype}`);
  }
  if (idx.backend !== t.backend) throw new TesseraError(op, `indices live on '${idx.backend.name}' but x on '${t.backend.name}'`);
  const n = t.shape[a]!;
  const values = hostIndices(idx);
  if (values) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < 0 || v >= n) throw new TesseraError(op, `index ${v} at position ${i} is out of range for axis ${a} of size ${n} (shape ${fmtShape(t.shape)})`);
    }
  }
  return recordOp(op, [t, idx], { axis: a }, () => {
    const outer = sizeOf(t.shape.slice(0, a));
    const inner = sizeOf(t.shape.slice(a + 1));
    const m = idx.size;
    const shape = [...t.shape];
    shape[a] = m;
    const xc = t.isContiguous ? t : contiguousCopy(t);
    const ic = idx.isContiguous ? idx : contiguousCopy(idx);
    let out: Tensor;
    const kernel = t.backend.kernels?.gather;
    if (sizeOf(shape) === 0) out = emptyTensor(t.backend, shape, t.dtype);
    else if (kernel) {
      out = emptyTensor(t.backend, shape, t.dtype);
      kernel.call(t.backend.kernels, xc.storage.buffer, outer, n, inner, ic.storage.buffer, m, out.storage.buffer);
    } else {
      const r = gatherFallback(xc, ic, outer, n, inner);
      out = viewTensor(r, shape, contiguousStrides(shape), 0);
      r.dispose();
    }
    if (xc !== t) xc.dispose();
    if (ic !== idx) ic.dispose();
    return out;
  });
}

/** The values of 1-D `idx` if the host has them (see `gather`), else undefined. */
function hostIndices(idx: Tensor): ArrayLike<number> | undefined {
  if (idx.size === 0) return undefined;
  if (idx.backend.readSync) return idx.dataSync();
  const host = idx.storage.hostValues;
  if (!host) return undefined;
  const values = new Int32Array(idx.size);
  for (let i = 0; i < idx.size; i++) values[i] = host[idx.offset + i * idx.strides[0]!]!;
  return values;
}

/** One-hot encoding: int32 indices of any shape -> float32 [...shape, depth]. Not differentiable. */
export function oneHot(indices: Tensor, depth: number): Tensor {
  const idx = asTensor(indices, "oneHot");
  if (idx.dtype !== "int32") throw new TesseraError("oneHot", `indices must be int32, got ${idx.dtype}`);
  if (!Number.isInteger(depth) || depth < 1) throw new TesseraError("oneHot", `depth must be a positive integer, got ${depth}`);
  const u = unsqueeze(idx, -1);
  const range = arange(depth, { dtype: "int32", backend: idx.backend });
  const eq = equal(u, range);
  const out = cast(eq, "float32");
  u.dispose();
  range.dispose();
  eq.dispose();
  return out;
}
