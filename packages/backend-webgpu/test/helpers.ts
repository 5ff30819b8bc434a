/**
 * Shared test setup: acquires a backend when the machine has a WebGPU adapter, so the test files can
 * skip (with the reason) instead of failing on machines without Vulkan. In CI a missing adapter is
 * an error instead: skipped suites would leave CI green with the WebGPU backend untested.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackendBuffer, DType, StridedView, TypedArray } from "../src/contract.js";
import { type WebGPUBackend, type WebGPUBackendOptions, createWebGPUBackend } from "../src/index.js";

// Dawn's Vulkan loader warns (and some drivers fail) without a runtime directory.
process.env.XDG_RUNTIME_DIR ??= mkdtempSync(join(tmpdir(), "xdg-"));

/**
 * Why a missing adapter must fail the run, or null when the suites may skip.
 * `TESSERA_REQUIRE_WEBGPU` (set by .ci/run) decides when set; otherwise `CI=true` requires WebGPU.
 */
export function webgpuRequirement(env: Record<string, string | undefined> = process.env): string | null {
  const flag = env.TESSERA_REQUIRE_WEBGPU;
  if (flag !== undefined && flag !== "") return flag === "0" || flag === "false" ? null : `TESSERA_REQUIRE_WEBGPU=${flag}`;
  return env.CI === "true" || env.CI === "1" ? `CI=${env.CI}` : null;
}

/** The error a required-but-missing adapter raises: what was required, what happened, the fix. */
export function webgpuRequiredError(requirement: string, reason: string): Error {
  return new Error(
    `WebGPU is required here (${requirement}) but no adapter started: ${reason}\n` +
      "CI machines have no GPU, so the WebGPU suites run on Mesa's software Vulkan driver (lavapipe): .ci/run " +
      "installs mesa-vulkan-drivers 25.x from bookworm-backports (needs root and apt). Install it, or set " +
      "TESSERA_REQUIRE_WEBGPU=0 to let these suites skip.",
  );
}

/** A backend, or why there is none; throws instead when WebGPU is required (see webgpuRequirement). */
export async function tryBackend(): Promise<{ backend: WebGPUBackend | null; reason: string }> {
  try {
    return { backend: await createWebGPUBackend(), reason: "" };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const requirement = webgpuRequirement();
    if (requirement) throw webgpuRequiredError(requirement, reason);
    return { backend: null, reason };
  }
}

/** Row-major strides of a contiguous shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** A contiguous view of a whole buffer. */
export function dense(buffer: BackendBuffer, shape: readonly number[]): StridedView {
  return { buffer, shape, strides: stridesOf(shape), offset: 0 };
}

/** Typed array of `dtype` holding `values`. */
export function typed(dtype: DType, values: ArrayLike<number>): TypedArray {
  if (dtype === "float32") return Float32Array.from(values);
  if (dtype === "int32") return Int32Array.from(values);
  return Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0));
}

/** Deterministic pseudo-random values in [-1, 1), rounded to float32. */
export function values(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.fround(s / 2 ** 31 - 1);
  });
}

/** Allocates a buffer on `b` and uploads `values`. */
export function upload(b: WebGPUBackend, dtype: DType, values: ArrayLike<number>): BackendBuffer {
  const buf = b.alloc(values.length, dtype);
  b.write(buf, typed(dtype, values));
  return buf;
}

/** Element [idx] of a strided view over host data. */
export function at(data: ArrayLike<number>, view: { strides: readonly number[]; offset: number }, idx: readonly number[]): number {
  let o = view.offset;
  for (let d = 0; d < idx.length; d++) o += idx[d]! * view.strides[d]!;
  return data[o]!;
}

/** Every multi-index of `shape`, row-major. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    yield idx.slice();
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

/** Asserts float closeness elementwise (NaN equals NaN, infinities exact), with a helpful message. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = ""): void {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= tol * Math.max(1, Math.abs(e))) continue;
    throw new Error(`${what}: element ${i} is ${a}, expected ${e} (tolerance ${tol})`);
  }
}

/**
 * A backend on Dawn's null backend, or why there is none. The null backend needs no GPU driver
 * (only Dawn's Node bindings), so these suites run on every machine that can load them. It runs
 * no shaders: what it reads back is unspecified, so its tests check counts and host behaviour only.
 */
export async function tryNullBackend(options: Omit<WebGPUBackendOptions, "dawnFlags"> = {}): Promise<{ backend: WebGPUBackend | null; reason: string }> {
  try {
    return { backend: await createWebGPUBackend({ ...options, dawnFlags: ["backend=null"] }), reason: "" };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    const requirement = webgpuRequirement();
    if (requirement) throw webgpuRequiredError(requirement, reason);
    return { backend: null, reason };
  }
}
