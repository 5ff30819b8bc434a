import { TesseraError } from "../errors.js";
import { normalizeAxis } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { tidy } from "../memory/scope.js";
import { asTensor } from "./convert.js";
import { div, exp, log, sub } from "./elementwise.js";
import { recordOp } from "./record.js";
import { max, sum } from "./reduce.js";

function checkFloat(op: string, t: Tensor): void {
  if (t.dtype !== "float32") throw new TesseraError(op, `expected a float32 tensor, got ${t.dtype}`);
  if (t.rank === 0) throw new TesseraError(op, "expected at least one dimension, got a scalar");
}

/** log(softmax(x)) along `axis`, computed stably (max subtracted before exp). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const t = asTensor(x, "logSoftmax");
  checkFloat("logSoftmax", t);
  const a = normalizeAxis("logSoftmax", axis, t.rank);
  return recordOp("logSoftmax", [t], { axis: a }, () =>
    tidy(() => {
      const shifted = sub(t, max(t, a, true));
      return sub(shifted, log(sum(exp(shifted), a, true)));
    }),
  );
}

/** exp(x) / sum(exp(x)) along `axis`, computed stably. */
export function softmax(x: Tensor, axis = -1): Tensor {
  const t = asTensor(x, "softmax");
  checkFloat("softmax", t);
  const a = normalizeAxis("softmax", axis, t.rank);
  return recordOp("softmax", [t], { axis: a }, () =>
    tidy(() => {
      const e = exp(sub(t, max(t, a, true)));
      return div(e, sum(e, a, true));
    }),
  );
}
