import { readFileSync } from "node:fs";
import { describe, it, expect } from "vitest";
import { TesseraError } from "../src/errors.js";
import { RandomState, type RandomStateSnapshot } from "../src/random/random-state.js";

// Reference draws from numpy's legacy RandomState, written by scripts/gen-random-fixtures.py.
interface MixedStep {
  call: "rand" | "normal" | "standardNormal" | "randint" | "uniform" | "permutation";
  args: number[];
  values: number[];
}
interface Fixture {
  numpyVersion: string;
  seeds: Record<string, { keyHead: number[]; uint32: number[]; rand: number[]; randTail: number[] }>;
  uniform23455: number[];
  rand1: number[];
  randint0: number[];
  randintWide0: number[];
  permutation0: number[];
  shuffle1: number[];
  normal0: number[];
  normal0State: { pos: number; hasGauss: boolean; gauss: number };
  normalLoc23455: number[];
  standardNormalSpot1: { count: number; index: number[]; values: number[] };
  mixed1234: MixedStep[];
  state23455: { state: RandomStateSnapshot; next: number[] };
}

const fx = JSON.parse(readFileSync(new URL("./fixtures/numpy-random.json", import.meta.url), "utf8")) as Fixture;

/** Element-wise exact comparison; doubles must be bit-identical to numpy's. */
function expectExact(got: ArrayLike<number>, want: readonly number[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) {
      expect.fail(`element ${i}: got ${got[i]}, numpy has ${want[i]}`);
    }
  }
}

/** Runs `fn` and returns the TesseraError it throws, failing the test if it throws anything else. */
function tesseraError(fn: () => unknown): TesseraError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    return e as TesseraError;
  }
  return expect.fail("expected a TesseraError");
}

describe("RandomState seeding and raw streams", () => {
  for (const seed of ["0", "1", "23455", "4294967295"]) {
    it(`matches numpy for seed ${seed}`, () => {
      const want = fx.seeds[seed];
      const rs = new RandomState(Number(seed));
      const state = rs.getState();
      expect(state.pos).toBe(624);
      expect(state.hasGauss).toBe(false);
      expectExact(state.key.slice(0, want.keyHead.length), want.keyHead);
      const words = Array.from({ length: want.uint32.length }, () => rs.randomUint32());
      expectExact(words, want.uint32);
      expectExact(rs.rand(want.rand.length), want.rand);
      // Crosses the 624-word regeneration boundary twice.
      expectExact(rs.rand(700).subarray(697), want.randTail);
    });
  }

  it("randomSample is rand(1)", () => {
    const a = new RandomState(1);
    const b = new RandomState(1);
    expect(a.randomSample()).toBe(b.rand(1)[0]);
  });
});

describe("RandomState distributions", () => {
  it("uniform(-0.3464, 0.3464, 500) with seed 23455", () => {
    expectExact(new RandomState(23455).uniform(-0.3464, 0.3464, 500), fx.uniform23455);
  });

  it("rand with a shape (LeNet max-pooling input, seed 1)", () => {
    const got = new RandomState(1).rand([3, 2, 5, 5]);
    expect(got).toBeInstanceOf(Float64Array);
    expectExact(got, fx.rand1);
  });

  it("randint(0, 10, 50) and randint(-5, 1000003, 20) with seed 0", () => {
    const small = new RandomState(0).randint(0, 10, 50);
    expect(small).toBeInstanceOf(Int32Array);
    expectExact(small, fx.randint0);
    expectExact(new RandomState(0).randint(-5, 1000003, 20), fx.randintWide0);
  });

  it("permutation(20) with seed 0", () => {
    expectExact(new RandomState(0).permutation(20), fx.permutation0);
  });

  it("shuffle permutes in place like numpy, for typed arrays and plain arrays", () => {
    const typed = Float64Array.from({ length: 12 }, (_, i) => i * 0.5);
    new RandomState(1).shuffle(typed);
    expectExact(typed, fx.shuffle1);
    const plain = Array.from({ length: 12 }, (_, i) => i * 0.5);
    new RandomState(1).shuffle(plain);
    expectExact(plain, fx.shuffle1);
  });

  it("normal(0, 1, 101) with seed 0 leaves numpy's cached gaussian", () => {
    const rs = new RandomState(0);
    expectExact(rs.normal(0, 1, 101), fx.normal0);
    const { pos, hasGauss, gauss } = rs.getState();
    expect({ pos, hasGauss, gauss }).toEqual(fx.normal0State);
    expect(gauss).toBe(fx.normal0State.gauss);
  });

  it("normal with loc and scale", () => {
    expectExact(new RandomState(23455).normal(-1.5, 2.0, 9), fx.normalLoc23455);
  });

  it("standardNormal agrees bit for bit across 20000 draws (checks the ported log)", () => {
    const spot = fx.standardNormalSpot1;
    const all = new RandomState(1).standardNormal(spot.count);
    expectExact(
      spot.index.map((i) => all[i]),
      spot.values,
    );
  });

  it("a mixed sequence of calls shares one stream like numpy", () => {
    const rs = new RandomState(1234);
    for (const { call, args, values } of fx.mixed1234) {
      const [a = 0, b = 0, c = 0] = args;
      let got: ArrayLike<number>;
      switch (call) {
        case "rand":
          got = rs.rand(a);
          break;
        case "normal":
          got = rs.normal(a, b, c);
          break;
        case "standardNormal":
          got = rs.standardNormal(a);
          break;
        case "randint":
          got = rs.randint(a, b, c);
          break;
        case "uniform":
          got = rs.uniform(a, b, c);
          break;
        case "permutation":
          got = rs.permutation(a);
          break;
      }
      expectExact(got, values);
    }
  });
});

describe("RandomState state", () => {
  it("getState matches numpy's get_state() after draws", () => {
    const rs = new RandomState(23455);
    rs.rand(1000);
    rs.normal(0, 1, 3);
    const want = fx.state23455.state;
    const got = rs.getState();
    expect(got.pos).toBe(want.pos);
    expect(got.hasGauss).toBe(want.hasGauss);
    expect(got.gauss).toBe(want.gauss);
    expect(got.key).toEqual(want.key);
    expectExact(rs.rand(4), fx.state23455.next);
  });

  it("setState restores numpy's state, including the cached gaussian", () => {
    const rs = new RandomState(7);
    rs.setState(fx.state23455.state);
    expectExact(rs.rand(4), fx.state23455.next);
  });

  it("round-trips through JSON and continues identically", () => {
    const rs = new RandomState(42);
    rs.normal(0, 1, 5); // leaves a cached gaussian
    const snap = JSON.parse(JSON.stringify(rs.getState())) as RandomStateSnapshot;
    const expected = [rs.standardNormal(3), rs.rand(700), rs.randint(0, 1000, 10)];
    const restored = new RandomState(0);
    restored.setState(snap);
    expect(restored.getState()).toEqual(snap);
    expect([restored.standardNormal(3), restored.rand(700), restored.randint(0, 1000, 10)]).toEqual(expected);
  });

  it("getState returns a copy the generator does not share", () => {
    const rs = new RandomState(3);
    const snap = rs.getState();
    snap.key[0] = 0;
    rs.rand(1);
    expect(rs.getState().key[0]).not.toBe(0);
  });

  it("clone continues the same stream independently", () => {
    const rs = new RandomState(99);
    rs.normal(0, 1, 1);
    const copy = rs.clone();
    const a = rs.standardNormal(5);
    const b = copy.standardNormal(5);
    expectExact(b, Array.from(a));
    rs.rand(10);
    expect(copy.getState()).not.toEqual(rs.getState());
  });
});

describe("RandomState errors", () => {
  it("rejects seeds outside [0, 2^32-1] or not integers", () => {
    const e = tesseraError(() => new RandomState(1.5));
    expect(e.op).toBe("RandomState");
    expect(e.message).toBe("RandomState: seed must be an integer in [0, 4294967295], got 1.5");
    for (const bad of [-1, 4294967296, Number.NaN, Number.POSITIVE_INFINITY]) {
      tesseraError(() => new RandomState(bad));
    }
    expect(() => new RandomState(4294967295)).not.toThrow();
  });

  it("rejects randint with high <= low or non-int32 bounds", () => {
    const rs = new RandomState(0);
    expect(tesseraError(() => rs.randint(5, 5, 1)).op).toBe("RandomState.randint");
    tesseraError(() => rs.randint(5, 4, 1));
    tesseraError(() => rs.randint(0.5, 4, 1));
    tesseraError(() => rs.randint(0, 2 ** 31 + 1, 1));
  });

  it("rejects bad sizes, scales and permutation lengths", () => {
    const rs = new RandomState(0);
    tesseraError(() => rs.rand(-1));
    tesseraError(() => rs.rand([2, 1.5]));
    tesseraError(() => rs.normal(0, -1, 2));
    tesseraError(() => rs.uniform(0, Number.POSITIVE_INFINITY, 2));
    tesseraError(() => rs.permutation(-3));
  });

  it("rejects malformed snapshots and leaves the state untouched", () => {
    const rs = new RandomState(5);
    const before = rs.getState();
    const good = rs.getState();
    const bad: unknown[] = [
      null,
      42,
      { ...good, key: good.key.slice(1) },
      { ...good, key: [...good.key.slice(1), -1] },
      { ...good, key: [...good.key.slice(1), 2 ** 32] },
      { ...good, key: "nope" },
      { ...good, pos: 625 },
      { ...good, pos: 1.5 },
      { ...good, hasGauss: 1 },
      { ...good, gauss: Number.NaN },
      { key: good.key, pos: good.pos },
    ];
    for (const s of bad) {
      const e = tesseraError(() => rs.setState(s as RandomStateSnapshot));
      expect(e.op).toBe("RandomState.setState");
    }
    expect(rs.getState()).toEqual(before);
  });
});
