import * as T from "@tessera/tensor";
import { describe, expect, test } from "vitest";
import { type CpuBackendOptions, createCpuBackend } from "../src/backend.js";
import { gemmOperand } from "../src/heavy/wasm.js";

/** Runs `fn` with a fresh backend of `options` active, then removes (and disposes) it. */
async function withBackend<R>(options: CpuBackendOptions, fn: (b: ReturnType<typeof createCpuBackend>) => R | Promise<R>): Promise<R> {
  const backend = createCpuBackend(options);
  T.registerBackend("backend-test", () => backend, -100);
  await T.setBackend("backend-test");
  try {
    return await fn(backend);
  } finally {
    await T.removeBackend("backend-test");
  }
}

describe("kernel selection", () => {
  test("wasm by default, with relaxed SIMD in Node and two threads on a two-core machine", async () => {
    const backend = createCpuBackend();
    expect(backend.engine).toBe("wasm");
    expect(backend.simd).toBe("relaxed");
    expect(backend.fallbackReason).toBeUndefined();
    expect(backend.kernels?.matmul).toBeTypeOf("function");
    await backend.ready();
    const os = await import("node:os");
    expect(backend.threads).toBe(os.availableParallelism() >= 2 ? 2 : 1);
    await backend.dispose();
    expect(backend.threads).toBe(1);
  });

  test("the second thread joins a loop that never yields to the event loop", async () => {
    const backend = createCpuBackend({ threads: 2 });
    // a training loop whose reads resolve at once never lets the worker's "ready" message
    // through; the worker's word in shared memory must be enough
    // the bound only ends a broken run: a worker starts in milliseconds on an idle machine and
    // within seconds on a loaded one
    const start = Date.now();
    while (backend.threads < 2 && Date.now() - start < 120_000) {
      /* spin without awaiting */
    }
    expect(backend.threads).toBe(2);
    await backend.dispose();
  }, 180_000);

  test("js on request: typed arrays and the reference kernels, nothing pooled", () => {
    const backend = createCpuBackend({ kernels: "js" });
    expect([backend.engine, backend.threads, backend.arena()]).toEqual(["js", 1, undefined]);
    expect(backend.memory()).toEqual({ buffers: 0, bytes: 0, pooledBytes: 0, pooledBuffers: 0 });
  });

  test("where shared WebAssembly memory is refused (a page without cross-origin isolation), it falls back to js and says why", () => {
    const wasm = (globalThis as unknown as { WebAssembly: { Memory: unknown } }).WebAssembly;
    const original = wasm.Memory;
    wasm.Memory = function refuse() {
      throw new TypeError("shared memory needs cross-origin isolation");
    };
    try {
      const backend = createCpuBackend();
      expect(backend.engine).toBe("js");
      expect(backend.fallbackReason).toMatch(/cross-origin isolation/);
      const b = backend.alloc(3, "float32");
      backend.write(b, new Float32Array([1, 2, 3]));
      expect(Array.from(backend.readSync!(b))).toEqual([1, 2, 3]);
    } finally {
      wasm.Memory = original;
    }
  });

  test("primitives only: no heavy kernels, storage still in the arena", () => {
    const backend = createCpuBackend({ primitivesOnly: true, threads: 1 });
    expect(backend.kernels).toBeUndefined();
    expect(backend.engine).toBe("wasm");
    void backend.dispose();
  });
});

describe("storage in the shared memory", () => {
  test("reads are copies outside the shared memory; writes copy in; freed bytes are pooled and reused", () => {
    const backend = createCpuBackend({ threads: 1 });
    const start = backend.arena()!.bytesInUse;
    const b = backend.alloc(5, "float32");
    backend.write(b, new Float32Array([1, 2, 3, 4, 5]));
    const copy = backend.readSync!(b) as Float32Array;
    expect(copy.buffer instanceof SharedArrayBuffer).toBe(false);
    copy[0] = 99;
    expect(Array.from(backend.readSync!(b))).toEqual([1, 2, 3, 4, 5]);
    expect(backend.memory()).toMatchObject({ buffers: 1, bytes: 20 });
    expect(backend.arena()!.bytesInUse).toBeGreaterThan(start);
    backend.free(b);
    expect(backend.memory()).toMatchObject({ buffers: 0, bytes: 0 });
    expect(backend.memory().pooledBytes).toBeGreaterThan(0);
    expect(backend.arena()!.bytesInUse).toBe(start);
    const again = backend.alloc(5, "int32"); // the same size class
    expect(backend.memory().pooledBuffers).toBe(0); // takes the freed block again
    backend.free(again);
    void backend.dispose();
  });

  test("tensors made before the memory grows keep their values and stay usable", async () => {
    await withBackend({ threads: 1 }, async (backend) => {
      const a = T.tensor([1, 2, 3, 4], { shape: [2, 2] });
      const capacity = backend.arena()!.capacity;
      const big = T.zeros([4, 1024, 1024]); // 16 MiB: the memory must grow
      expect(backend.arena()!.capacity).toBeGreaterThan(capacity);
      expect(await T.matmul(a, a).array()).toEqual([
        [7, 10],
        [15, 22],
      ]);
      T.dispose([a, big]);
    });
  });
});

describe("matmul operands", () => {
  test("row-major, transposed, single rows and columns map to sgemm; repeated rows do not", () => {
    expect(gemmOperand(3, 4, 4, 1)).toEqual({ trans: false, ld: 4 });
    expect(gemmOperand(3, 4, 6, 1)).toEqual({ trans: false, ld: 6 });
    expect(gemmOperand(3, 4, 1, 3)).toEqual({ trans: true, ld: 3 });
    expect(gemmOperand(1, 4, 0, 1)).toEqual({ trans: false, ld: 4 });
    expect(gemmOperand(4, 1, 1, 0)).toEqual({ trans: false, ld: 1 }); // a column: rows one apart
    expect(gemmOperand(3, 4, 0, 1)).toBeNull(); // a broadcast row
    expect(gemmOperand(3, 4, 2, 2)).toBeNull(); // every other element
  });

  test("layouts sgemm cannot read fall back to the reference kernel, with the same values", async () => {
    const data = Array.from({ length: 15 }, (_, i) => (i % 7) - 3);
    const results = [];
    for (const kernels of ["wasm", "js"] as const) {
      results.push(
        await withBackend({ kernels, threads: 1 }, async () => {
          const row = T.tensor(data.slice(0, 5));
          const w = T.tensor(data, { shape: [5, 3] });
          const strided = T.slice(T.tensor([...data, ...data], { shape: [10, 3] }), [{ step: 2 }]);
          const out = [await T.matmul(T.expand(row, [4, 5]), w).array(), await T.matmul(T.transpose(strided), w).array()];
          T.dispose([row, w, strided]);
          return out;
        }),
      );
    }
    expect(results[0]).toEqual(results[1]);
  });
});

describe("allocation failures", () => {
  test.each([{ kernels: "wasm" as const }, { kernels: "js" as const }])(
    "a tensor larger than the $kernels backend can hold is a TesseraError naming the op, shape and bytes; the counts stay true",
    async (options) => {
      await withBackend(options, (backend) => {
        const before = T.memory(backend);
        expect(() => T.zeros([1e5, 1e5])).toThrow(T.TesseraError);
        expect(() => T.zeros([1e5, 1e5])).toThrow(/^zeros: cannot allocate a \[100000,100000\] float32 tensor: 40000000000 bytes \(37\.3 GiB\) on 'cpu' \(/);
        expect(() => T.randn([1e5, 1e5])).toThrow(/^randn: cannot allocate a \[100000,100000\] float32 tensor/);
        const after = T.memory(backend);
        expect([after.tensors, after.buffers, after.bytes]).toEqual([before.tensors, before.buffers, before.bytes]);
        expect(after.backend).toEqual(before.backend);
        T.ones([4]).dispose(); // still usable
      });
    },
  );
});
