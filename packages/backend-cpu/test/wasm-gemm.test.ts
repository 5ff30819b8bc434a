import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Arena, createSharedMemory, createWasmKernels, detectRelaxedSimd, sizeClass, WASM_PAGE_BYTES, type WasmKernels } from "../src/wasm/index.js";
import { sleb128, uleb128 } from "../src/wasm/emitter.js";
import { bitDifferences, fillRandom } from "./helpers.js";

interface Case {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  beta: 0 | 1;
  /** Extra elements per stored row, to exercise leading dimensions above the minimum. */
  pad?: number;
}

/** A GEMM's operands in the shared memory, plus its float64 reference result. */
interface Problem {
  c: Case;
  A: number;
  B: number;
  C: number;
  lda: number;
  ldb: number;
  ldc: number;
  c0: Float32Array;
  ref: Float64Array;
  /** Σ_k |a_ik·b_kj|, the scale a float32 dot product's rounding error is proportional to. */
  scale: Float64Array;
}

function makeProblem(arena: Arena, c: Case, seed: number): Problem {
  const { M, N, K, transA, transB, pad = 0 } = c;
  const [aRows, aCols] = transA ? [K, M] : [M, K];
  const [bRows, bCols] = transB ? [N, K] : [K, N];
  const lda = aCols + pad;
  const ldb = bCols + pad;
  const ldc = N + pad;
  const A = arena.alloc(Math.max(1, aRows * lda) * 4);
  const B = arena.alloc(Math.max(1, bRows * ldb) * 4);
  const C = arena.alloc(Math.max(1, M * ldc) * 4);
  const a = arena.f32view(A, aRows * lda);
  const b = arena.f32view(B, bRows * ldb);
  fillRandom(a, seed);
  fillRandom(b, seed + 1);
  const c0 = new Float32Array(M * ldc);
  fillRandom(c0, seed + 2);
  const at = (i: number, k: number) => (transA ? a[k * lda + i]! : a[i * lda + k]!);
  const bt = (k: number, j: number) => (transB ? b[j * ldb + k]! : b[k * ldb + j]!);
  const ref = new Float64Array(M * N);
  const scale = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = c.beta ? c0[i * ldc + j]! : 0;
      let t = c.beta ? Math.abs(s) : 0;
      for (let k = 0; k < K; k++) {
        const p = at(i, k) * bt(k, j);
        s += p;
        t += Math.abs(p);
      }
      ref[i * N + j] = s;
      scale[i * N + j] = t;
    }
  }
  return { c, A, B, C, lda, ldb, ldc, c0, ref, scale };
}

/** Runs the problem on `k` and returns C (a copy) and its error relative to the reference. */
function run(k: WasmKernels, p: Problem): { out: Float32Array; err: number } {
  const { M, N, K, transA, transB, beta } = p.c;
  const cView = k.arena.f32view(p.C, M * p.ldc);
  cView.set(p.c0);
  k.sgemm(M, N, K, p.A, p.lda, transA, p.B, p.ldb, transB, p.C, p.ldc, beta);
  const out = new Float32Array(M * N);
  let err = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const v = cView[i * p.ldc + j]!;
      out[i * N + j] = v;
      err = Math.max(err, Math.abs(v - p.ref[i * N + j]!) / (p.scale[i * N + j]! + 1e-30));
    }
    // padding columns of C must be left alone
    for (let j = N; j < p.ldc; j++) if (cView[i * p.ldc + j] !== p.c0[i * p.ldc + j]) err = Infinity;
  }
  return { out, err };
}

function freeProblem(arena: Arena, p: Problem): void {
  arena.free(p.A);
  arena.free(p.B);
  arena.free(p.C);
}

const TRANSPOSES = [
  { transA: false, transB: false, name: "A·B" },
  { transA: false, transB: true, name: "A·Bᵀ" },
  { transA: true, transB: false, name: "Aᵀ·B" },
  { transA: true, transB: true, name: "Aᵀ·Bᵀ" },
] as const;

const ODD_SIZES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 8, 1],
  [5, 9, 3],
  [9, 3, 17],
  [10, 6, 5],
  [2, 14, 33],
  [7, 15, 9], // with the others, N mod 8 takes every value 0..7
  [37, 29, 61],
  [64, 64, 64],
  [203, 77, 150], // several chunks and both row and panel edges when threaded
  [6, 300, 40], // more panels than row tiles: threads split columns
];

/** LeNet at batch 20: conv1 and conv2 as im2col GEMMs, and the 800→500 dense layer. */
const LENET_SHAPES: readonly (readonly [string, number, number, number])[] = [
  ["conv1", 11520, 20, 25],
  ["conv2", 1280, 50, 500],
  ["dense", 20, 500, 800],
];

describe("wasm emitter", () => {
  test("LEB128 encodings match the spec's examples", () => {
    expect(uleb128(0)).toEqual([0]);
    expect(uleb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb128(261)).toEqual([0x85, 0x02]); // f32x4.relaxed_madd
    expect(sleb128(-1)).toEqual([0x7f]);
    expect(sleb128(63)).toEqual([0x3f]);
    expect(sleb128(64)).toEqual([0xc0, 0x00]);
    expect(sleb128(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb128(0xffff0000)).toEqual(sleb128(-65536)); // i32 bits, unsigned spelling
  });

  test("relaxed SIMD is found in Node (behind its flag in Node 20)", async () => {
    expect(await detectRelaxedSimd()).toBe(true);
  });
});

describe("Arena", () => {
  test("size classes are 16-byte multiples wasting under 25%", () => {
    for (const bytes of [0, 1, 15, 16, 17, 255, 256, 257, 1000, 4096, 4097, 123_457, 10_000_000]) {
      const s = sizeClass(bytes);
      expect(s % 16).toBe(0);
      expect(s).toBeGreaterThanOrEqual(Math.max(bytes, 16));
      if (bytes > 256) expect(s).toBeLessThan(bytes * 1.25);
    }
  });

  test("alloc/free: aligned, disjoint blocks, reuse of freed ones, flat byte count", () => {
    const arena = new Arena(createSharedMemory({ initialPages: 1, maximumPages: 1024 }));
    const sizes = [1, 16, 100, 300, 5000, 64, 7];
    const blocks = sizes.map((n) => ({ ptr: arena.alloc(n), n }));
    for (const { ptr } of blocks) expect(ptr % 16).toBe(0);
    const sorted = [...blocks].sort((x, y) => x.ptr - y.ptr);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i]!.ptr).toBeGreaterThanOrEqual(sorted[i - 1]!.ptr + sorted[i - 1]!.n);
    }
    const used = arena.bytesInUse;
    arena.free(blocks[2]!.ptr);
    expect(arena.alloc(97)).toBe(blocks[2]!.ptr); // same size class, so the freed block
    for (const { ptr } of blocks) arena.free(ptr);
    expect(arena.bytesInUse).toBe(0);
    expect(arena.liveBlocks).toBe(0);
    expect(used).toBeGreaterThan(0);
    expect(() => arena.free(blocks[0]!.ptr)).toThrow(/not a live block/);
  });

  test("growing the memory keeps earlier views valid and aliased", () => {
    const arena = new Arena(createSharedMemory({ initialPages: 1, maximumPages: 4096 }));
    const p = arena.alloc(64);
    const before = arena.f32view(p, 16);
    before.set([1, 2, 3]);
    const capacity = arena.capacity;
    const big = arena.alloc(40 * WASM_PAGE_BYTES);
    expect(arena.capacity).toBeGreaterThan(capacity);
    // the old view still works and shares storage with a view made after the grow
    expect(Array.from(before.subarray(0, 3))).toEqual([1, 2, 3]);
    const after = arena.f32view(p, 16);
    after[1] = 42;
    expect(before[1]).toBe(42);
    before[2] = 7;
    expect(after[2]).toBe(7);
    arena.f32view(big, (40 * WASM_PAGE_BYTES) / 4).fill(1); // the new block is addressable
    expect(() => arena.alloc(8192 * WASM_PAGE_BYTES)).toThrow(/cannot grow/);
  });
});

describe("wasm sgemm", () => {
  const arena = new Arena(createSharedMemory());
  const variants: { name: string; k: WasmKernels }[] = [];

  beforeAll(async () => {
    for (const simd of ["standard", "relaxed"] as const) {
      for (const threads of [1, 2] as const) {
        // parallelMinFlops 0: even tiny problems go through the threaded path
        const k = await createWasmKernels({ simd, threads, arena, parallelMinFlops: 0 });
        variants.push({ name: `${simd}/${threads}t`, k });
      }
    }
  });
  afterAll(async () => {
    for (const { k } of variants) await k.dispose();
  });

  test("variants are what they claim", () => {
    expect(variants.map(({ k }) => [k.simd, k.threads])).toEqual([
      ["standard", 1],
      ["standard", 2],
      ["relaxed", 1],
      ["relaxed", 2],
    ]);
  });

  for (const t of TRANSPOSES) {
    for (const [M, N, K] of ODD_SIZES) {
      for (const beta of [0, 1] as const) {
        test(`${t.name} ${M}x${N}x${K} beta=${beta}: every variant matches float64, 1 and 2 threads bit-identical`, () => {
          const p = makeProblem(arena, { M, N, K, beta, transA: t.transA, transB: t.transB, pad: beta }, M * 7 + N * 3 + K);
          const outs = variants.map(({ name, k }) => ({ name, ...run(k, p) }));
          for (const { name, err } of outs) expect(err, name).toBeLessThan(1e-5);
          expect(bitDifferences(outs[1]!.out, outs[0]!.out)).toBe(0);
          expect(bitDifferences(outs[3]!.out, outs[2]!.out)).toBe(0);
          freeProblem(arena, p);
        });
      }
    }
  }

  test("K = 0 gives zeros, or leaves C unchanged with beta = 1", () => {
    for (const beta of [0, 1] as const) {
      const p = makeProblem(arena, { M: 6, N: 11, K: 0, beta, transA: false, transB: false }, 5);
      for (const { name, k } of variants) expect(run(k, p).err, name).toBe(0);
      freeProblem(arena, p);
    }
  });

  for (const [layer, M, N, K] of LENET_SHAPES) {
    for (const t of TRANSPOSES.slice(0, 3)) {
      test(`LeNet ${layer} ${M}x${N}x${K} ${t.name}`, () => {
        const p = makeProblem(arena, { M, N, K, beta: 0, transA: t.transA, transB: t.transB }, M + N + K);
        const outs = variants.map(({ name, k }) => ({ name, ...run(k, p) }));
        for (const { name, err } of outs) expect(err, name).toBeLessThan(1e-5);
        expect(bitDifferences(outs[1]!.out, outs[0]!.out)).toBe(0);
        expect(bitDifferences(outs[3]!.out, outs[2]!.out)).toBe(0);
        freeProblem(arena, p);
      });
    }
  }

  test("invalid arguments are rejected with the shapes in the message", () => {
    const { k } = variants[0]!;
    const A = arena.alloc(16);
    expect(() => k.sgemm(4, 4, 4, A, 4, false, A, 4, false, A, 4, 0)).not.toThrow();
    const end = k.memory.buffer.byteLength;
    expect(() => k.sgemm(4, 4, 4, end - 32, 4, false, A, 4, false, A, 4, 0)).toThrow(/A spans bytes .*M=4, N=4, K=4/);
    expect(() => k.sgemm(4, 4, 4, A, 3, false, A, 4, false, A, 4, 0)).toThrow(/leading dimension of A is 3/);
    expect(() => k.sgemm(-1, 4, 4, A, 4, false, A, 4, false, A, 4, 0)).toThrow(/M must be/);
    arena.free(A);
  });

  test("with 2 threads the worker runs chunks, and results stay bit-identical", async () => {
    const one = variants[2]!.k;
    // awaitWorker: the caller lets the worker claim a chunk first, so the worker's share is a
    // certainty, not a matter of how the machine schedules the two threads
    const two = await createWasmKernels({ simd: "relaxed", threads: 2, arena, parallelMinFlops: 0, awaitWorker: true });
    try {
      const p = makeProblem(arena, { M: 1280, N: 50, K: 500, beta: 0, transA: false, transB: false }, 9);
      const reference = run(one, p).out;
      for (let i = 0; i < 3; i++) expect(bitDifferences(run(two, p).out, reference)).toBe(0);
      const { jobs, chunks, callerChunks, workerJobs, soloJobs } = two.stats;
      expect(jobs).toBeGreaterThanOrEqual(3);
      expect([workerJobs, soloJobs]).toEqual([jobs, 0]);
      expect(callerChunks).toBeLessThan(chunks);
      freeProblem(arena, p);
    } finally {
      await two.dispose();
    }
  });

  test("a memory that is not shared is refused", async () => {
    const plain = new (globalThis as unknown as { WebAssembly: { Memory: new (d: object) => never } }).WebAssembly.Memory({
      initial: 1,
      maximum: 2,
    });
    await expect(createWasmKernels({ memory: plain })).rejects.toThrow(/shared: true/);
  });

  test("scratch and job blocks are returned on dispose", async () => {
    const own = new Arena(createSharedMemory());
    const k = await createWasmKernels({ threads: 2, arena: own });
    const p = makeProblem(own, { M: 64, N: 64, K: 400, beta: 0, transA: false, transB: false }, 1);
    expect(run(k, p).err).toBeLessThan(1e-5);
    freeProblem(own, p);
    expect(own.bytesInUse).toBeGreaterThan(0);
    await k.dispose();
    expect(own.bytesInUse).toBe(0);
    expect(() => k.sgemm(1, 1, 1, 64, 1, false, 64, 1, false, 64, 1, 0)).toThrow(/disposed/);
  });
});

describe("wasm im2col", () => {
  const arena = new Arena(createSharedMemory());
  const variants: WasmKernels[] = [];
  beforeAll(async () => {
    variants.push(await createWasmKernels({ arena, threads: 1 }));
    variants.push(await createWasmKernels({ arena, threads: 2, parallelMinFlops: 0 }));
  });
  afterAll(async () => {
    for (const k of variants) await k.dispose();
  });

  /** Plain-JS im2col: rows (n, oh, ow), columns (c, i, j), zeros where the window is off the image. */
  function im2colRef(
    x: Float32Array,
    [N, C, H, W]: readonly number[],
    [kh, kw]: readonly number[],
    [sh, sw]: readonly number[],
    [ph, pw]: readonly number[],
    [dh, dw]: readonly number[],
  ): { out: Float32Array; OH: number; OW: number } {
    const OH = Math.floor((H! + 2 * ph! - dh! * (kh! - 1) - 1) / sh!) + 1;
    const OW = Math.floor((W! + 2 * pw! - dw! * (kw! - 1) - 1) / sw!) + 1;
    const out = new Float32Array(N! * OH * OW * C! * kh! * kw!);
    let o = 0;
    for (let n = 0; n < N!; n++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++)
          for (let c = 0; c < C!; c++)
            for (let i = 0; i < kh!; i++)
              for (let j = 0; j < kw!; j++) {
                const ih = oh * sh! - ph! + i * dh!;
                const iw = ow * sw! - pw! + j * dw!;
                const inside = ih >= 0 && ih < H! && iw >= 0 && iw < W!;
                out[o++] = inside ? x[((n * C! + c) * H! + ih) * W! + iw]! : 0;
              }
    return { out, OH, OW };
  }

  const CASES = [
    { shape: [20, 1, 28, 28], kernel: [5, 5], stride: [1, 1], padding: [0, 0], dilation: [1, 1] }, // LeNet conv1
    { shape: [20, 20, 12, 12], kernel: [5, 5], stride: [1, 1], padding: [0, 0], dilation: [1, 1] }, // LeNet conv2
    { shape: [3, 2, 7, 9], kernel: [3, 2], stride: [2, 3], padding: [1, 2], dilation: [2, 1] },
    { shape: [1, 3, 5, 5], kernel: [5, 5], stride: [1, 1], padding: [2, 2], dilation: [1, 1] },
  ] as const;

  for (const g of CASES) {
    test(`input [${g.shape.join(",")}] kernel [${g.kernel.join(",")}] stride [${g.stride.join(",")}] padding [${g.padding.join(",")}] dilation [${g.dilation.join(",")}]`, () => {
      const [N, C, H, W] = g.shape;
      const xPtr = arena.alloc(N * C * H * W * 4);
      fillRandom(arena.f32view(xPtr, N * C * H * W), 3);
      const ref = im2colRef(arena.f32view(xPtr, N * C * H * W), g.shape, g.kernel, g.stride, g.padding, g.dilation);
      const outPtr = arena.alloc(ref.out.length * 4);
      for (const k of variants) {
        arena.f32view(outPtr, ref.out.length).fill(Number.NaN);
        expect(k.im2col(xPtr, g.shape, g.kernel, g, outPtr)).toEqual([ref.OH, ref.OW]);
        expect(bitDifferences(arena.f32view(outPtr, ref.out.length), ref.out)).toBe(0);
      }
      arena.free(xPtr);
      arena.free(outPtr);
    });
  }

  test("im2col + sgemm(A·Bᵀ) equals a direct convolution (LeNet conv1, 4 images)", () => {
    const k = variants[1]!;
    const [N, C, H, W, CO, KH] = [4, 1, 28, 28, 20, 5];
    const x = arena.alloc(N * C * H * W * 4);
    const w = arena.alloc(CO * C * KH * KH * 4);
    fillRandom(arena.f32view(x, N * C * H * W), 11);
    fillRandom(arena.f32view(w, CO * C * KH * KH), 12);
    const OH = H - KH + 1;
    const rows = N * OH * OH;
    const cols = arena.alloc(rows * C * KH * KH * 4);
    const y = arena.alloc(rows * CO * 4);
    k.im2col(x, [N, C, H, W], [KH, KH], {}, cols);
    k.sgemm(rows, CO, C * KH * KH, cols, C * KH * KH, false, w, C * KH * KH, true, y, CO, 0);
    const xv = arena.f32view(x, N * C * H * W);
    const wv = arena.f32view(w, CO * C * KH * KH);
    const yv = arena.f32view(y, rows * CO);
    let err = 0;
    for (let n = 0; n < N; n++)
      for (let co = 0; co < CO; co++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OH; ow++) {
            let s = 0;
            for (let i = 0; i < KH; i++) for (let j = 0; j < KH; j++) s += xv[(n * H + oh + i) * W + ow + j]! * wv[co * KH * KH + i * KH + j]!;
            // GEMM output is [n, oh, ow, co]
            err = Math.max(err, Math.abs(yv[((n * OH + oh) * OH + ow) * CO + co]! - s));
          }
    expect(err).toBeLessThan(1e-5);
    for (const p of [x, w, cols, y]) arena.free(p);
  });
});
