/**
 * `compile` on a real adapter: a compiled (fused) program gives what its calls give when the
 * backend runs them one by one, through every dtype conversion the kernels make, and a run binds
 * the dynamic buffers it is given.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { BackendBuffer, ProgramCall, StridedView } from "../src/contract.js";
import { dense, tryBackend, upload } from "./helpers.js";

const { backend, reason } = await tryBackend();
const b = backend!;

describe.skipIf(!backend)(`compiled programs${backend ? "" : ` (skipped: no WebGPU adapter: ${reason})`}`, () => {
  afterAll(() => backend?.dispose());

  it("fused chains over float32, int32 and bool give the calls' own results; dynamic buffers are rebound", async () => {
    const shape = [2, 3];
    const xf = upload(b, "float32", [-1.5, 0, 0.25, 2, -3, Number.NaN]);
    const xi = upload(b, "int32", [3, -2, 0, 7, -9, 1]);
    const row = upload(b, "float32", [0.5, -1, 4]);
    const half = b.alloc(1, "float32");
    b.write(half, Float32Array.of(0.5)); // a host scalar: a kernel parameter once compiled
    const dtypes = ["float32", "float32", "int32", "int32", "bool", "bool", "float32", "float32"] as const;
    const temps: BackendBuffer[] = dtypes.map((d) => b.alloc(6, d));
    const t = (k: number) => temps[k]!;
    const [t1, t2, t3, t4, t5, t6, t7, t8] = [t(0), t(1), t(2), t(3), t(4), t(5), t(6), t(7)];
    const out = b.alloc(6, "float32");
    const bcast = (buffer: BackendBuffer, strides: number[]): StridedView => ({ buffer, shape, strides, offset: 0 });
    const calls = (x: BackendBuffer, i: BackendBuffer, o: BackendBuffer): ProgramCall[] => [
      { op: "unary", fn: "exp", x: dense(x, shape), out: t1 },
      { op: "binary", fn: "mul", a: dense(t1, shape), b: bcast(half, [0, 0]), out: t2 },
      { op: "copy", src: dense(t2, shape), dst: dense(t3, shape) }, // float32 -> int32 (truncates, NaN -> 0)
      { op: "binary", fn: "add", a: dense(t3, shape), b: dense(i, shape), out: t4 },
      { op: "binary", fn: "greater", a: dense(t4, shape), b: dense(i, shape), out: t5 }, // -> bool
      { op: "unary", fn: "logicalNot", x: dense(t5, shape), out: t6 },
      { op: "where", cond: dense(t6, shape), a: dense(x, shape), b: dense(t2, shape), out: t7 },
      { op: "binary", fn: "pow", a: dense(t7, shape), b: bcast(row, [0, 1]), out: t8 },
      { op: "binary", fn: "maximum", a: dense(t8, shape), b: { buffer: x, shape, strides: [1, 2], offset: 0 }, out: o },
    ];
    const eager = async (x: BackendBuffer, i: BackendBuffer) => {
      const o = b.alloc(6, "float32");
      for (const c of calls(x, i, o)) {
        if (c.op === "unary") b.unary(c.fn, c.x, c.out);
        else if (c.op === "binary") b.binary(c.fn, c.a, c.b, c.out);
        else if (c.op === "where") b.where(c.cond, c.a, c.b, c.out);
        else if (c.op === "copy") b.copy(c.src, c.dst);
      }
      const values = Array.from(await b.read(o));
      b.free(o);
      return values;
    };
    const program = b.compile({ calls: calls(xf, xi, out), dynamic: [xf, xi, out], constants: new Map([[half, Float32Array.of(0.5)]]) });
    const before = b.stats();
    program.run([xf, xi, out]);
    const dispatches = b.stats().dispatches - before.dispatches;
    expect(dispatches).toBeLessThan(calls(xf, xi, out).length);
    const expected = await eager(xf, xi);
    const actual = Array.from(await b.read(out));
    expect(actual).toEqual(expected); // the same WGSL per node: bit for bit, NaN included
    // Other inputs and output in the same program.
    const xf2 = upload(b, "float32", [1, 2, -0.5, 0.75, Number.POSITIVE_INFINITY, -2]);
    const xi2 = upload(b, "int32", [0, 1, 2, 3, 4, 5]);
    const out2 = b.alloc(6, "float32");
    program.run([xf2, xi2, out2]);
    expect(Array.from(await b.read(out2))).toEqual(await eager(xf2, xi2));
    expect(b.stats().bindGroupsCreated - before.bindGroupsCreated).toBeGreaterThan(0); // new buffers, new groups
    const settled = b.stats();
    program.run([xf2, xi2, out2]);
    expect(b.stats().bindGroupsCreated).toBe(settled.bindGroupsCreated); // cached from here on
    program.dispose();
    for (const x of [xf, xi, row, half, ...temps, out, xf2, xi2, out2]) b.free(x);
  });

  it("refuses a run whose dynamic buffers do not match the compiled ones", () => {
    const x = upload(b, "float32", [1, 2]);
    const y = b.alloc(2, "float32");
    const program = b.compile({ calls: [{ op: "unary", fn: "neg", x: dense(x, [2]), out: y }], dynamic: [x, y], constants: new Map() });
    const wrong = b.alloc(3, "float32");
    expect(() => program.run([wrong, y])).toThrow(/run: dynamic buffer 0 has 3 float32 elements, the program was compiled for 2 float32/);
    program.dispose();
    for (const t of [x, y, wrong]) b.free(t);
  });
});
