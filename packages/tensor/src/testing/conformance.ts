import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../backend/contract.js";
import { registerBackend, removeBackend, setBackend } from "../backend/registry.js";
import { TesseraError } from "../errors.js";
import { dispose, keep, tidy } from "../memory/scope.js";
import { memory } from "../memory/report.js";
import { RandomState } from "../random/random-state.js";
import * as T from "../ops/index.js";
import { conformanceCases } from "./cases.js";
import { checkForwardCase, conformanceSeed, gapOf } from "./checks.js";
import { registerProperties } from "./properties.js";

/** What a backend's conformance test file passes to `describeConformance`. */
export interface ConformanceOptions {
  /** Label of the suite, e.g. `cpu`. */
  name: string;
  /** Creates a fresh backend instance for the suite. */
  create: () => Backend | Promise<Backend>;
  /** Known gaps: case name or op name -> reason. Matching cases are reported as skipped with the reason. */
  gaps?: Readonly<Record<string, string>>;
  /** Seed of the input draws (default 1234, or TESSERA_CONFORMANCE_SEED). */
  seed?: number;
  /** Random inputs each property test tries (default 200, or TESSERA_PROPERTY_RUNS). */
  propertyRuns?: number;
}

/**
 * `backend` as a backend without `readSync` looks to the core (a view of the same instance):
 * how a GPU backend looks, for testing what the core does when it cannot read synchronously.
 */
export function withoutReadSync(backend: Backend): Backend {
  return new Proxy(backend, {
    get(target, key) {
      if (key === "readSync") return undefined;
      const v = Reflect.get(target, key, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
    has: (target, key) => key !== "readSync" && Reflect.has(target, key),
  });
}

/**
 * Registers vitest suites that run every op of the catalogue on a backend against the float64
 * reference, plus error and memory behaviour. Call it at the top level of a test file.
 */
export function describeConformance(options: ConformanceOptions): void {
  const seed = conformanceSeed(options.seed);
  const registryName = `conformance-${options.name}`;
  describe(`conformance: ${options.name} (seed ${seed})`, () => {
    let backend: Backend;
    beforeAll(async () => {
      registerBackend(registryName, options.create, -100);
      backend = await setBackend(registryName);
    });
    afterAll(async () => {
      await removeBackend(registryName);
    });

    describe("ops against the float64 reference", () => {
      const cases = conformanceCases();
      cases.forEach((c, index) => {
        const gap = gapOf(c, options.gaps);
        if (gap) {
          it.skip(`${c.name} [gap: ${gap}]`, () => {});
          return;
        }
        it(c.name, () => checkForwardCase(backend, c, index, seed, options.name));
      });
    });

    describe(`properties (fast-check, seed ${seed})`, () => {
      registerProperties(() => backend, { seed, ...(options.propertyRuns === undefined ? {} : { runs: options.propertyRuns }) });
    });

    describe("creation", () => {
      it("zeros, ones, full, arange, eye", async () => {
        expect(Array.from(await T.zeros([2, 2]).data())).toEqual([0, 0, 0, 0]);
        expect(Array.from(await T.ones([3], { dtype: "int32" }).data())).toEqual([1, 1, 1]);
        expect(Array.from(await T.full([2], 2.5).data())).toEqual([2.5, 2.5]);
        expect(Array.from(await T.arange(5).data())).toEqual([0, 1, 2, 3, 4]);
        expect(Array.from(await T.arange(1, 2, 0.25).data())).toEqual([1, 1.25, 1.5, 1.75]);
        expect(await T.eye(2, 3).array()).toEqual([
          [1, 0, 0],
          [0, 1, 0],
        ]);
        expect(await T.tensor([[true, false]]).array()).toEqual([[1, 0]]);
        expect((await T.tensor(new Int32Array([7, -8])).data()) instanceof Int32Array).toBe(true);
      });
      it("seeded random tensors repeat", async () => {
        const a = await T.randomUniform([5], -1, 1, { generator: new RandomState(3) }).data();
        const b = await T.randomUniform([5], -1, 1, { generator: new RandomState(3) }).data();
        expect(Array.from(a)).toEqual(Array.from(b));
        expect(Array.from(a).every((v) => v >= -1 && v < 1)).toBe(true);
      });
    });

    describe("errors name the op, the shapes and what was expected", () => {
      const cases: Array<[string, () => unknown, RegExp]> = [
        ["add", () => T.add(T.zeros([2, 3]), T.zeros([4])), /^add: shapes \[2,3\] and \[4\] do not broadcast/],
        ["matmul", () => T.matmul(T.zeros([2, 3]), T.zeros([4, 5])), /^matmul: inner dimensions differ: \[2,3\] @ \[4,5\]/],
        [
          "conv2d",
          () => T.conv2d(T.zeros([20, 3, 28, 28]), T.zeros([20, 1, 5, 5])),
          /^conv2d: input has 3 channels but weight expects 1 .*\(input \[20,3,28,28\], weight \[20,1,5,5\]\)/,
        ],
        ["conv2d rank", () => T.conv2d(T.zeros([3, 28, 28]), T.zeros([20, 3, 5, 5])), /^conv2d: input must be 4-D/],
        ["maxPool2d", () => T.maxPool2d(T.zeros([1, 1, 2, 2]), { kernelSize: 3 }), /^maxPool2d: window 3x3 does not fit/],
        ["reshape", () => T.reshape(T.zeros([2, 3]), [4, 2]), /^reshape: cannot reshape \[2,3\] \(6 elements\) to \[4,2\]/],
        ["sum axis", () => T.sum(T.zeros([2, 3]), 2), /^sum: axis 2 is out of range for a tensor of rank 2/],
        // A scalar has no axes (NumPy's rule); with no axis argument these ops still take it.
        ["sum of a scalar over axis 0", () => T.sum(T.tensor(3), 0), /^sum: got axis 0 for a scalar \(shape \[\]\), which has no axes/],
        ["mean of a scalar over axis -1", () => T.mean(T.tensor(3), -1), /^mean: got axis -1 for a scalar/],
        ["argmax of a scalar along axis 0", () => T.argmax(T.tensor(3), 0), /^argmax: got axis 0 for a scalar/],
        ["concat scalars", () => T.concat([T.tensor(1), T.tensor(2)]), /^concat: got axis 0 for a scalar/],
        ["gather from a scalar", () => T.gather(T.tensor(3), T.tensor(new Int32Array([0]))), /^gather: got axis 0 for a scalar/],
        ["squeeze a scalar's axis 0", () => T.squeeze(T.tensor(3), 0), /^squeeze: got axis 0 for a scalar/],
        ["concat", () => T.concat([T.zeros([2, 3]), T.zeros([3, 3])], 1), /^concat: tensor 1 has shape \[3,3\]/],
        ["stack", () => T.stack([T.zeros([2]), T.zeros([3])]), /^stack: tensor 1 has shape \[3\] but tensor 0 has \[2\]/],
        ["where", () => T.where(T.tensor([true, false]), T.zeros([3]), 0), /^where: shapes \[2\] and \[3\] do not broadcast/],
        ["pad", () => T.pad(T.zeros([2, 3]), [[1, 1]]), /^pad: expected 2 pairs \[before, after\] of non-negative integers for shape \[2,3\], got \[\[1,1\]\]/],
        ["slice", () => T.slice(T.zeros([4]), [{ step: 0 }]), /^slice: step must be a positive integer, got 0 on axis 0/],
        ["permute", () => T.permute(T.zeros([2, 3]), [0, 0]), /^permute: axes \[0,0\] are not a permutation/],
        ["oneHot", () => T.oneHot(T.zeros([3]), 4), /^oneHot: indices must be int32, got float32/],
        ["softmax", () => T.softmax(T.tensor(1)), /^softmax: expected at least one dimension, got a scalar/],
        ["avgPool2d", () => T.avgPool2d(T.zeros([1, 1, 2, 2]), { kernelSize: 3 }), /^avgPool2d: window 3x3 does not fit the input \[1,1,2,2\]/],
        ["gather dtype", () => T.gather(T.zeros([3]), T.zeros([2]), 0), /^gather: indices must be a 1-D int32 tensor/],
        [
          "gather range",
          () => T.gather(T.zeros([3, 2]), T.tensor(new Int32Array([1, 3]))),
          /^gather: index 3 at position 1 is out of range for axis 0 of size 3/,
        ],
        ["arange too long", () => T.arange(0, 1e12), /^arange: \(0, 1000000000000, 1\) would have 1000000000000 elements \(expected at most 2\^31 - 1/],
        ["tensor ragged", () => T.tensor([[1, 2], [3]]), /^tensor: ragged nested array/],
        ["tensor shape", () => T.tensor([1, 2, 3], { shape: [2, 2] }), /^tensor: shape \[2,2\] needs 4 elements but the data has 3/],
        ["bool arithmetic", () => T.add(T.tensor([true]), T.tensor([false])), /^add: arithmetic on bool tensors/],
        [
          "matmul batch dims",
          () => T.matmul(T.zeros([2, 3, 4]), T.zeros([3, 4, 5])),
          /^matmul: batch dimensions do not broadcast: \[2,3,4\] @ \[3,4,5\] \(batch \[2\] vs \[3\]/,
        ],
        ["max over an empty axis", () => T.max(T.zeros([3, 0, 7]), 1), /^max: cannot take max over an empty axis \(axis 1 of shape \[3,0,7\] has size 0/],
        ["min of an empty tensor", () => T.min(T.zeros([2, 0])), /^min: cannot take min over an empty axis \(axis 1 of shape \[2,0\]/],
        ["argmin over an empty axis", () => T.argmin(T.zeros([0, 3]), 0), /^argmin: cannot take argmin over an empty axis \(axis 0 of shape \[0,3\]/],
        ["argmax of an empty tensor", () => T.argmax(T.zeros([0])), /^argmax: cannot take argmax of an empty tensor \(shape \[0\]/],
        // Far more than any backend holds: refused by the core as a TesseraError, not a RangeError from deep inside.
        [
          "zeros too large",
          () => T.zeros([1e6, 1e6, 1e3]),
          /^zeros: cannot allocate a \[1000000,1000000,1000\] float32 tensor: 4000000000000000 bytes \(3\.6 PiB\) on '[^']+' \(/,
        ],
        ["randn too large", () => T.randn([1e6, 1e6, 1e3]), /^randn: cannot allocate a \[1000000,1000000,1000\] float32 tensor/],
        ["eye too large", () => T.eye(1e8), /^eye: cannot allocate a \[100000000,100000000\] float32 tensor/],
        [
          "op output too large",
          () => T.add(T.expand(T.zeros([1, 1, 1]), [1e6, 1e6, 1e3]), 1),
          /^add: cannot allocate a \[1000000,1000000,1000\] float32 tensor/,
        ],
        ["randn shape", () => T.randn([-3]), /^randn: shape \[-3\] is not a list of non-negative integers/],
        ["rand shape", () => T.rand([2, 0.5]), /^rand: shape \[2,0.5\] is not a list of non-negative integers/],
        ["randint shape", () => T.randint(0, 3, [-1]), /^randint: shape \[-1\] is not a list/],
        [
          "gather negative index",
          () => T.gather(T.zeros([3, 2]), T.tensor(new Int32Array([0, -1]))),
          /^gather: index -1 at position 1 is out of range for axis 0 of size 3/,
        ],
        [
          "gather index past the end of axis 1",
          () => T.gather(T.zeros([3, 2]), T.tensor(new Int32Array([2])), 1),
          /^gather: index 2 at position 0 is out of range for axis 1 of size 2 \(shape \[3,2\]; expected indices in \[0, 1\]\)/,
        ],
        [
          "oneHot index too large",
          () => T.oneHot(T.tensor(new Int32Array([1, 12, 4])), 10),
          /^oneHot: index 12 at position 1 is out of range for depth 10 \(expected indices in \[0, 9\]\)/,
        ],
        [
          "oneHot negative index",
          () => T.oneHot(T.tensor(new Int32Array([[0], [-2]].flat())), 3),
          /^oneHot: index -2 at position 1 is out of range for depth 3/,
        ],
      ];
      for (const [name, fn, pattern] of cases) {
        it(name, () => {
          const before = memory(backend).tensors;
          tidy(() => {
            expect(fn).toThrow(TesseraError);
            expect(fn).toThrow(pattern);
          });
          expect(memory(backend).tensors).toBe(before);
        });
      }
      it("use after dispose", () => {
        const t = T.ones([2]);
        t.dispose();
        expect(() => T.neg(t)).toThrow(/^neg: tensor #\d+ \[2\] float32 was already disposed/);
      });
      it("gather checks indices made on the host even where the backend cannot read synchronously", async () => {
        // The same backend seen without readSync: what a GPU backend looks like to the core.
        const b = withoutReadSync(backend);
        const x = T.tensor(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          { backend: b },
        );
        const bad = T.tensor(new Int32Array([0, 3]), { backend: b });
        expect(() => T.gather(x, bad)).toThrow(/^gather: index 3 at position 1 is out of range for axis 0 of size 3/);
        // a view is checked on its own elements only
        const wide = T.tensor(new Int32Array([9, 2, -1, 0]), { backend: b });
        const picked = T.slice(wide, [{ start: 1, step: 2 }]);
        const out = T.gather(x, picked);
        expect(await out.array()).toEqual([
          [5, 6],
          [1, 2],
        ]);
        dispose([x, bad, wide, picked, out]);
        expect(memory(b).tensors).toBe(0);
      });
      it("gather: indices computed on the device are checked where they can be read, else select zeros", async () => {
        const before = memory(backend).tensors;
        const x = T.tensor([
          [1, 2],
          [3, 4],
          [5, 6],
        ]);
        const start = T.tensor(new Int32Array([0, 1]));
        const computed = T.add(start, 2); // [2, 3], with no host copy: 3 is out of range
        if (backend.readSync) {
          expect(() => T.gather(x, computed)).toThrow(/^gather: index 3 at position 1 is out of range for axis 0 of size 3/);
        } else {
          const out = T.gather(x, computed);
          expect(await out.array()).toEqual([
            [5, 6],
            [0, 0],
          ]);
          out.dispose();
        }
        dispose([x, start, computed]);
        expect(memory(backend).tensors).toBe(before);
      });
      it("oneHot checks indices the host can see; ones computed on a device it cannot read give rows of zeros", async () => {
        const b = withoutReadSync(backend);
        const before = memory(backend).tensors;
        const hostMade = T.tensor(new Int32Array([2, 3]), { backend: b });
        expect(() => T.oneHot(hostMade, 3)).toThrow(/^oneHot: index 3 at position 1 is out of range for depth 3/);
        const start = T.tensor(new Int32Array([0, 1]));
        const computed = T.add(start, 2); // [2, 3]: 3 is out of range
        if (backend.readSync) expect(() => T.oneHot(computed, 3)).toThrow(/^oneHot: index 3 at position 1 is out of range for depth 3/);
        const bStart = T.tensor(new Int32Array([0, 1]), { backend: b });
        const onDevice = T.add(bStart, 2);
        const out = T.oneHot(onDevice, 3);
        expect(await out.array()).toEqual([
          [0, 0, 1],
          [0, 0, 0],
        ]);
        dispose([hostMade, start, computed, bStart, onDevice, out]);
        expect(memory(backend).tensors).toBe(before);
        expect(memory(b).tensors).toBe(0);
      });
      it("dataSync says to use data() where the backend cannot read synchronously", () => {
        const t = T.ones([2]);
        if (backend.readSync) expect(Array.from(t.dataSync())).toEqual([1, 1]);
        else expect(() => t.dataSync()).toThrow(/use `await tensor.data\(\)`/);
        t.dispose();
      });
    });

    describe("memory", () => {
      it("tidy frees intermediates and keeps what it returns", () => {
        const before = memory(backend);
        const kept = tidy(() => {
          const a = T.ones([4, 4]);
          const b = T.add(a, a);
          return { result: T.mul(b, b) };
        });
        expect(memory(backend).tensors).toBe(before.tensors + 1);
        expect(memory(backend).bytes).toBe(before.bytes + 64);
        kept.result.dispose();
        expect(memory(backend).tensors).toBe(before.tensors);
        expect(memory(backend).bytes).toBe(before.bytes);
      });
      it("views share one buffer until the last is disposed", () => {
        const before = memory(backend);
        const a = T.ones([4, 6]);
        const v = T.transpose(a);
        a.dispose();
        expect(memory(backend).buffers).toBe(before.buffers + 1);
        v.dispose();
        expect(memory(backend).buffers).toBe(before.buffers);
        expect(memory(backend).bytes).toBe(before.bytes);
      });
      it("keep survives tidy; using disposes at block end; dispose twice is harmless", () => {
        const before = memory(backend).tensors;
        let k!: ReturnType<typeof T.ones>;
        tidy(() => {
          k = keep(T.ones([2]));
          T.ones([3]);
        });
        expect(memory(backend).tensors).toBe(before + 1);
        k.dispose();
        k.dispose();
        {
          using u = T.ones([5]);
          expect(u.isDisposed).toBe(false);
        }
        expect(memory(backend).tensors).toBe(before);
      });
      it("memory stays flat over many op rounds", () => {
        const x = T.randn([8, 8]);
        const start = memory(backend);
        for (let i = 0; i < 200; i++) {
          tidy(() => T.sum(T.tanh(T.matmul(x, T.transpose(x))), 1)).dispose();
        }
        expect(memory(backend).tensors).toBe(start.tensors);
        expect(memory(backend).bytes).toBe(start.bytes);
        x.dispose();
      });
    });
  });
}
