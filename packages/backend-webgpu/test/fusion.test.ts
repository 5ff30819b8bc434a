/** Which elementwise chains of a recorded program fuse, on plain descriptions (no device needed). */
import { describe, expect, it } from "vitest";
import { type FusedCall, fuseElementwise } from "../src/compile/fusion.js";
import type { BackendBuffer, ProgramCall, StridedView } from "../src/contract.js";

const buf = (size: number, dtype: BackendBuffer["dtype"] = "float32"): BackendBuffer => ({ size, dtype });
const whole = (b: BackendBuffer, shape: number[] = [b.size]): StridedView => {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, x) => a * x, 1));
  return { buffer: b, shape, strides, offset: 0 };
};
const scalar = (b: BackendBuffer, shape: number[]): StridedView => ({ buffer: b, shape, strides: shape.map(() => 0), offset: 0 });

describe("fuseElementwise", () => {
  it("folds a chain whose links are read once into one call over the chain's inputs", () => {
    const [x, y, t1, t2, out] = [buf(6), buf(6), buf(6), buf(6), buf(6)];
    const one = buf(1);
    const calls: ProgramCall[] = [
      { op: "binary", fn: "mul", a: whole(x), b: whole(x), out: t1 },
      { op: "binary", fn: "sub", a: scalar(one, [6]), b: whole(t1), out: t2 },
      { op: "binary", fn: "mul", a: whole(y), b: whole(t2), out },
    ];
    const fused = fuseElementwise(calls, new Set([x, y, out]));
    expect(fused).toHaveLength(1);
    const f = fused[0] as FusedCall;
    expect(f.op).toBe("fused");
    expect(f.calls).toBe(3);
    expect(f.out).toBe(out);
    expect(f.inputs.map((v) => v.buffer)).toEqual([y, one, x, x]);
  });

  it("keeps an intermediate that is read twice, read through another view, or seen outside the program", () => {
    const [x, t, u, v] = [buf(6), buf(6), buf(6), buf(6)];
    const twice: ProgramCall[] = [
      { op: "unary", fn: "tanh", x: whole(x), out: t },
      { op: "unary", fn: "neg", x: whole(t), out: u },
      { op: "unary", fn: "exp", x: whole(t), out: v },
    ];
    expect(fuseElementwise(twice, new Set())).toHaveLength(3);
    const transposed: ProgramCall[] = [
      { op: "unary", fn: "tanh", x: whole(x, [2, 3]), out: t },
      { op: "unary", fn: "neg", x: { buffer: t, shape: [3, 2], strides: [1, 3], offset: 0 }, out: u },
    ];
    expect(fuseElementwise(transposed, new Set())).toHaveLength(2);
    const dynamic: ProgramCall[] = [
      { op: "unary", fn: "tanh", x: whole(x), out: t },
      { op: "unary", fn: "neg", x: whole(t), out: u },
    ];
    expect(fuseElementwise(dynamic, new Set([t]))).toHaveLength(2);
    expect(fuseElementwise(dynamic, new Set())).toHaveLength(1);
  });

  it("re-expresses a producer over the consumer's shape when its inputs are read whole or broadcast, and only then", () => {
    const [p, g, next] = [buf(6), buf(6), buf(6)];
    const lr = buf(1);
    const flat = (pView: StridedView): ProgramCall[] => [
      { op: "binary", fn: "sub", a: pView, b: scalar(lr, [2, 3]), out: next },
      { op: "copy", src: whole(next), dst: whole(p) }, // seen flat: [6]
    ];
    const fused = fuseElementwise(flat(whole(g, [2, 3])), new Set([p, g]));
    expect(fused).toHaveLength(1);
    const f = fused[0] as FusedCall;
    expect(f.shape).toEqual([6]);
    expect(f.inputs.map((v) => [v.shape, v.strides])).toEqual([
      [[6], [1]],
      [[6], [0]],
    ]);
    // A transposed input has no flat equivalent: the copy stays.
    expect(fuseElementwise(flat({ buffer: g, shape: [2, 3], strides: [1, 2], offset: 0 }), new Set([p, g]))).toHaveLength(2);
  });

  it("does not move a producer past a call that overwrites what it reads", () => {
    const [x, t, u, w] = [buf(4), buf(4), buf(4), buf(4)];
    const calls: ProgramCall[] = [
      { op: "unary", fn: "exp", x: whole(x), out: t },
      { op: "unary", fn: "neg", x: whole(w), out: x }, // x's buffer takes another value
      { op: "binary", fn: "add", a: whole(t), b: whole(x), out: u },
    ];
    // The exp stays before the neg; the neg itself folds into the add.
    const fused = fuseElementwise(calls, new Set());
    expect(fused.map((c) => c.op)).toEqual(["unary", "fused"]);
    expect((fused[1] as FusedCall).inputs.map((v) => v.buffer)).toEqual([t, w]);
  });

  it("never fuses into a reduction or a heavy kernel", () => {
    const [x, t, s] = [buf(6), buf(6), buf(2)];
    const calls: ProgramCall[] = [
      { op: "unary", fn: "exp", x: whole(x), out: t },
      { op: "reduce", fn: "sum", x: t, outer: 2, inner: 3, out: s },
    ];
    expect(fuseElementwise(calls, new Set())).toHaveLength(2);
  });

  it("writes an update into the buffer it reads only element for element", () => {
    const [p, g, t, next] = [buf(4), buf(4), buf(4), buf(4)];
    const lr = buf(1);
    const update = (pView: StridedView): ProgramCall[] => [
      { op: "binary", fn: "mul", a: whole(g), b: scalar(lr, [4]), out: t },
      { op: "binary", fn: "sub", a: pView, b: whole(t), out: next },
      { op: "copy", src: whole(next), dst: whole(p) },
    ];
    const inPlace = fuseElementwise(update(whole(p)), new Set([p, g]));
    expect(inPlace).toHaveLength(1);
    expect((inPlace[0] as FusedCall).out).toBe(p);
    // p read reversed while p is written: the copy stays separate.
    const reversed = fuseElementwise(update({ buffer: p, shape: [4], strides: [-1], offset: 3 }), new Set([p, g]));
    expect(reversed).toHaveLength(2);
    expect(reversed[1]!.op).toBe("copy");
  });
});
