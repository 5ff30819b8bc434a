import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import {
  CheckpointError,
  LeNet5,
  StateDictError,
  decodeCheckpoint,
  decodeSafetensors,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../src/index.js";
import { LENET5_STATE_NAMES, values } from "./helpers.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tessera-nn-bytes-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const small = (seed: number) => new LeNet5({ inputShape: [1, 12, 12], kernels: [2, 3], filterSize: 3, hidden: 6, classes: 3, seed });

async function weights(m: LeNet5): Promise<number[][]> {
  return Promise.all([m.conv1.weight, m.conv2.weight, m.fc1.weight].map((t) => values(t)));
}

describe("checkpoints as bytes", () => {
  it("encodeCheckpoint makes what loadCheckpoint reads, and decodeCheckpoint reads what saveCheckpoint writes", async () => {
    const a = small(1);
    const bytes = await encodeCheckpoint(a, { metadata: { epoch: 3 } });
    const file = path.join(dir, "a.safetensors");
    fs.writeFileSync(file, bytes);
    const b = small(2);
    const { metadata } = await loadCheckpoint(file, b);
    expect(metadata.epoch).toBe(3);
    expect(metadata.architecture).toEqual({ type: "LeNet5", config: a.config });
    expect(await weights(b)).toEqual(await weights(a));

    await saveCheckpoint(file, small(5), { metadata: { note: "x" } });
    const c = small(6);
    expect(decodeCheckpoint(new Uint8Array(fs.readFileSync(file)), c).metadata.note).toBe("x");
    expect(await weights(c)).toEqual(await weights(small(5)));
    for (const m of [a, b, c]) m.dispose();
  });

  it("stores the weights as plain safetensors (PyTorch's names and layouts)", async () => {
    const m = small(1);
    const { tensors } = decodeSafetensors(await encodeCheckpoint(m));
    expect([...tensors.keys()].sort()).toEqual(LENET5_STATE_NAMES);
    expect(tensors.get("conv1.weight")!.shape).toEqual([2, 1, 3, 3]);
    m.dispose();
  });

  it("refuses bytes that are not a checkpoint of this model, naming the source, and leaves the model unchanged", async () => {
    const m = small(1);
    const before = await weights(m);
    expect(() => decodeCheckpoint(new Uint8Array([1, 2, 3]), m, { source: "picked.safetensors" })).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(new Uint8Array([1, 2, 3]), m, { source: "picked.safetensors" })).toThrow(/^checkpoint picked\.safetensors: /);
    const other = new LeNet5();
    expect(() => decodeCheckpoint(fs.readFileSync(path.join(dir, "a.safetensors")), other)).toThrow(StateDictError);
    expect(await weights(m)).toEqual(before);
    m.dispose();
    other.dispose();
  });
});
