import { type Backend, type BackendBuffer, type DType, type HeavyKernels, type TypedArray, bytesPerElement } from "@tessera/tensor";
import { CpuBuffer, dataOf } from "./buffer.js";
import { binary, copy, unary, where } from "./kernels/elementwise.js";
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from "./kernels/conv.js";
import { matmul } from "./kernels/matmul.js";
import { avgPool2d, avgPool2dBackward, gather, maxPool2d, maxPool2dBackward } from "./kernels/pool.js";
import { reduce } from "./kernels/reduce.js";

function allocArray(dtype: DType, size: number): TypedArray {
  return dtype === "float32" ? new Float32Array(size) : dtype === "int32" ? new Int32Array(size) : new Uint8Array(size);
}

/** Options of `createCpuBackend`. */
export interface CpuBackendOptions {
  /** Registry name (default `cpu`). */
  name?: string;
  /** Leave out the heavy kernels so the core's fallbacks run (for testing the contract). */
  primitivesOnly?: boolean;
}

/**
 * The reference CPU backend: every primitive and heavy kernel on typed arrays, written for
 * clarity and determinism (the same inputs always give bit-identical outputs).
 */
export function createCpuBackend(options: CpuBackendOptions = {}): Backend {
  let buffers = 0;
  let bytes = 0;
  const kernels: HeavyKernels = {
    matmul: (a, b, out) => matmul(a, b, dataOf(out)),
    conv2d: (x, xs, w, ws, out, os, p) => conv2d(dataOf(x), xs, dataOf(w), ws, dataOf(out), os, p),
    conv2dBackwardInput: (dy, ds, w, ws, out, xs, p) => conv2dBackwardInput(dataOf(dy), ds, dataOf(w), ws, dataOf(out), xs, p),
    conv2dBackwardWeight: (x, xs, dy, ds, out, ws, p) => conv2dBackwardWeight(dataOf(x), xs, dataOf(dy), ds, dataOf(out), ws, p),
    maxPool2d: (x, xs, out, os, p) => maxPool2d(dataOf(x), xs, dataOf(out), os, p),
    maxPool2dBackward: (x, xs, dy, ds, out, p) => maxPool2dBackward(dataOf(x), xs, dataOf(dy), ds, dataOf(out), p),
    avgPool2d: (x, xs, out, os, p) => avgPool2d(dataOf(x), xs, dataOf(out), os, p),
    avgPool2dBackward: (dy, ds, out, xs, p) => avgPool2dBackward(dataOf(dy), ds, dataOf(out), xs, p),
    gather: (x, outer, n, inner, idx, m, out) => gather(dataOf(x), outer, n, inner, dataOf(idx), m, dataOf(out)),
  };
  return {
    name: options.name ?? "cpu",
    alloc(size: number, dtype: DType): BackendBuffer {
      buffers++;
      bytes += size * bytesPerElement(dtype);
      return new CpuBuffer(allocArray(dtype, size), dtype);
    },
    free(buffer: BackendBuffer): void {
      buffers--;
      bytes -= buffer.size * bytesPerElement(buffer.dtype);
    },
    write(buffer, data) {
      dataOf(buffer).set(data);
    },
    async read(buffer) {
      return dataOf(buffer).slice();
    },
    readSync(buffer) {
      return dataOf(buffer).slice();
    },
    fill(buffer, value) {
      dataOf(buffer).fill(buffer.dtype === "bool" ? (value ? 1 : 0) : value);
    },
    copy,
    unary(op, x, out) {
      unary(op, x, dataOf(out));
    },
    binary(op, a, b, out) {
      binary(op, a, b, dataOf(out), a.buffer.dtype);
    },
    where(cond, a, b, out) {
      where(cond, a, b, dataOf(out));
    },
    reduce(op, x, outer, inner, out) {
      reduce(op, dataOf(x), outer, inner, dataOf(out));
    },
    ...(options.primitivesOnly ? {} : { kernels }),
    memory: () => ({ buffers, bytes }),
  };
}
