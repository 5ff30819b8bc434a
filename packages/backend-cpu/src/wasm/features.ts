/**
 * Which WebAssembly features this runtime offers the kernels.
 *
 * Relaxed SIMD's `f32x4.relaxed_madd` compiles to one FMA instruction and makes the GEMM 30-48%
 * faster (docs/cpu-kernels.md), but Node 20 ships it behind a V8 flag. We set the flag (Node
 * only; `node:v8` is reached through `process.getBuiltinModule`, so browsers and bundlers never
 * see it), then ask the engine whether it now validates a module using the instruction, and
 * fall back to standard SIMD.
 */
import { ModuleBuilder, SimdOp, ValType, v128_zero } from "./emitter.js";
import { importNodeBuiltin, nodeBuiltin } from "./node.js";
import { wasmApi } from "./wasm-api.js";

/** The SIMD flavour a kernel module is generated for. */
export type SimdFlavour = "relaxed" | "standard";

interface V8Flags {
  setFlagsFromString(flags: string): void;
}

const RELAXED_FLAG = "--experimental-wasm-relaxed-simd";

/** A module whose only function uses `f32x4.relaxed_madd` (and `v128.const`, so plain SIMD too). */
function relaxedProbeModule(): Uint8Array {
  const mb = new ModuleBuilder();
  const fn = mb.function("probe", [], [ValType.v128]);
  fn.body.push(v128_zero, v128_zero, v128_zero).simd(SimdOp.f32x4_relaxed_madd);
  return mb.toBytes();
}

/** Sets the V8 flag, then asks again; false when the flag cannot be set. */
function validateWithFlag(v8: V8Flags | undefined, probe: Uint8Array): boolean {
  if (!v8) return false;
  try {
    v8.setFlagsFromString(RELAXED_FLAG);
  } catch {
    return false;
  }
  return wasmApi.validate(probe);
}

let relaxedSync: boolean | undefined;
let relaxedAsync: Promise<boolean> | undefined;

/**
 * Whether `f32x4.relaxed_madd` can be compiled here, enabling V8's flag first where
 * `process.getBuiltinModule` reaches `node:v8` synchronously (Node >= 20.16). Memoised.
 */
export function detectRelaxedSimdSync(): boolean {
  if (relaxedSync === undefined) {
    const probe = relaxedProbeModule();
    relaxedSync = wasmApi.validate(probe) || validateWithFlag(nodeBuiltin<V8Flags>("node:v8"), probe);
  }
  return relaxedSync;
}

/**
 * The same answer, also where `node:v8` is only reachable by a dynamic import. Memoised:
 * the answer cannot change within a process.
 */
export function detectRelaxedSimd(): Promise<boolean> {
  relaxedAsync ??= (async () => {
    if (detectRelaxedSimdSync()) return true;
    const probe = relaxedProbeModule();
    const ok = validateWithFlag(await importNodeBuiltin<V8Flags>("node:v8"), probe);
    if (ok) relaxedSync = true;
    return ok;
  })();
  return relaxedAsync;
}
