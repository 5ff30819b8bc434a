import { TesseraError, fmtShape } from "../errors.js";
import { contiguousStrides, normalizeAxis, sizeOf } from "../shape.js";
import { type Tensor, emptyTensor, viewTensor } from "../tensor.js";
import { gatherFallback } from "../fallbacks/gather.js";
import { arange } from "./creation.js";
import { asTensor } from "./convert.js";
import { cast, contiguousCopy, equal } from "./elementwise.js";
import { firstOutOfRange, hostData } from "./host-data.js";
import { recordOp } from "./record.js";
import { unsqueeze } from "./views.js";

/**
 * Index-select: picks entries of `x` along `axis` by a 1-D int32 `indices` tensor (values in
 * [0, n)). The result replaces dim `axis` by `indices.size`.
 *
 * Out-of-range (and negative) indices throw wherever the host sees their values without waiting
 * for the device (see `hostData`): on backends with `readSync`, and for indices made from host
 * data (`tensor`, `arange`, `randint`, `to`) on the others. Indices computed on a device that cannot read synchronously
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
  const values = hostData(idx);
  const bad = values ? firstOutOfRange(values, n) : -1;
  if (bad >= 0) {
    throw new TesseraError(
      op,
      `index ${values![bad]} at position ${bad} is out of range for axis ${a} of size ${n} (shape ${fmtShape(t.shape)}; expected indices in [0, ${n - 1}])`,
    );
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

/**
 * One-hot encoding: int32 indices of any shape -> float32 [...shape, depth]. Not differentiable.
 * Indices outside [0, depth) throw wherever the host sees them (as for `gather`); indices
 * computed on a device that cannot read synchronously are not checked, and there an
 * out-of-range index gives a row of zeros.
 */
export function oneHot(indices: Tensor, depth: number): Tensor {
  const idx = asTensor(indices, "oneHot");
  if (idx.dtype !== "int32") throw new TesseraError("oneHot", `indices must be int32, got ${idx.dtype}`);
  if (!Number.isInteger(depth) || depth < 1) throw new TesseraError("oneHot", `depth must be a positive integer, got ${depth}`);
  const values = hostData(idx);
  const bad = values ? firstOutOfRange(values, depth) : -1;
  if (bad >= 0) {
    throw new TesseraError("oneHot", `index ${values![bad]} at position ${bad} is out of range for depth ${depth} (expected indices in [0, ${depth - 1}])`);
  }
  const u = unsqueeze(idx, -1);
  const range = arange(depth, { dtype: "int32", backend: idx.backend });
  const eq = equal(u, range);
  const out = cast(eq, "float32");
  u.dispose();
  range.dispose();
  eq.dispose();
  return out;
}
