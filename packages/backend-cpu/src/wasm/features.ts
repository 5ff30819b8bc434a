/**
 * Which WebAssembly features this runtime offers the kernels.
 *
 * Relaxed SIMD's `f32x4.relaxed_madd` compiles to one FMA instruction and makes the GEMM
 * 34-49% faster (CPU-KERNELS.md), but Node 20 ships it behind a V8 flag. We set the flag
 * (Node only; `node:v8` is imported lazily so browsers never see it), then ask the engine
 * whether it now validates a module using the instruction, and fall back to standard SIMD.
 */
import { ModuleBuilder, SimdOp, ValType } from "./emitter.js";

/** The SIMD flavour a kernel module is generated for. */
export type SimdFlavour = "relaxed" | "standard";

/** A module whose only function uses `f32x4.relaxed_madd` (and `v128.const`, so plain SIMD too). */
function relaxedProbeModule(): Uint8Array {
  const mb = new ModuleBuilder();
  const fn = mb.function("probe", [], [ValType.v128]);
  const zero = () => fn.body.simd(SimdOp.v128_const, ...new Array<number>(16).fill(0));
  zero();
  zero();
  zero();
  fn.body.simd(SimdOp.f32x4_relaxed_madd);
  return mb.toBytes();
}

let relaxedSupport: Promise<boolean> | undefined;

/**
 * Whether `f32x4.relaxed_madd` can be compiled here, enabling V8's flag in Node first.
 * Memoised: the answer cannot change within a process.
 */
export function detectRelaxedSimd(): Promise<boolean> {
  relaxedSupport ??= (async () => {
    const probe = relaxedProbeModule();
    if (WebAssembly.validate(probe)) return true;
    const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";
    if (!isNode) return false;
    try {
      const v8 = await import("node:v8");
      v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
    } catch {
      return false;
    }
    return WebAssembly.validate(probe);
  })();
  return relaxedSupport;
}
