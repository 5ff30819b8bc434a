import type { TypedArray } from "../dtype.js";
import { allocTypedArray } from "../dtype.js";
import { captureHooks } from "../capture/hooks.js";
import type { Tensor } from "../tensor.js";

/**
 * The elements of `t` (row-major), read without waiting for a device, or undefined where that is
 * impossible. Always available on backends with `readSync` (the CPU); elsewhere for int32 tensors
 * made from host data (`tensor`, `arange`, `randint`, `to`) and views of them, whose values the
 * core keeps. Ops use it to check indices and labels without stalling a GPU queue.
 *
 * Undefined while a function is being captured (`capture`): its replays run none of the
 * JavaScript that would look at the values, so checks there must take their on-device form
 * (the losses make a bad label's row NaN).
 */
export function hostData(t: Tensor): TypedArray | undefined {
  t.assertLive("hostData");
  if (captureHooks.recording) return undefined;
  if (t.backend.readSync) return t.dataSync();
  const host = t.storage.hostValues;
  if (!host) return undefined;
  const out = allocTypedArray(t.dtype, t.size);
  const rank = t.rank;
  const index = new Array<number>(rank).fill(0);
  let at = t.offset;
  for (let i = 0; i < t.size; i++) {
    out[i] = host[at]!;
    // odometer over the view's multi-index, moving `at` by the strides
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      at += t.strides[d]!;
      if (index[d]! < t.shape[d]!) break;
      at -= index[d]! * t.strides[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** The position of the first of `values` outside [0, bound), or -1 when all are inside. */
export function firstOutOfRange(values: ArrayLike<number>, bound: number): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v < bound)) return i;
  }
  return -1;
}
