/**
 * The parts of the WebAssembly JavaScript API the kernels use, typed here because the
 * project's compiler settings (lib ES2022, @types/node 20, no DOM) declare no `WebAssembly`.
 * The shapes match the standard API, so values from it pass in and out unchanged.
 */

/** A `WebAssembly.Memory`. */
export interface WasmMemory {
  /** The current contents (a SharedArrayBuffer for a shared memory; replaced by each grow). */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** Grows by `deltaPages` 64 KiB pages; returns the previous size in pages. */
  grow(deltaPages: number): number;
}

/** A compiled `WebAssembly.Module` (opaque; it can be sent to worker threads). */
export interface WasmModule {
  readonly [Symbol.toStringTag]: string;
}

/** A `WebAssembly.Instance`. */
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

/** The `WebAssembly` namespace object. */
export interface WasmNamespace {
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: Record<string, Record<string, unknown>>): Promise<WasmInstance>;
}

/** The runtime's `WebAssembly` object, through the local types above. */
export const wasmApi: WasmNamespace = (globalThis as unknown as { WebAssembly: WasmNamespace }).WebAssembly;

/**
 * Whether a memory is shared. Tested by tag, not `instanceof SharedArrayBuffer`: a browser page
 * that is not cross-origin isolated has shared wasm memories but no `SharedArrayBuffer` global.
 */
export function isSharedMemory(memory: WasmMemory): boolean {
  return Object.prototype.toString.call(memory.buffer) === "[object SharedArrayBuffer]";
}
