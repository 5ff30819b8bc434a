import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import "@tessera/backend-cpu";
import "@tessera/autograd";
import * as T from "@tessera/tensor";
import { RandomState, type Tensor } from "@tessera/tensor";
import {
  Adam,
  CheckpointError,
  Conv2d,
  Flatten,
  LeNet5,
  type LeNet5Options,
  Linear,
  type Module,
  type Optimizer,
  SGD,
  Sequential,
  StateDictError,
  Tanh,
  crossEntropyLoss,
  loadCheckpoint,
  loadSafetensors,
  saveCheckpoint,
} from "../src/index.js";
import { LENET5_STATE_NAMES, randomTensor, values } from "./helpers.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "tessera-nn-checkpoint-"));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const small = () => new LeNet5({ inputShape: [1, 12, 12], kernels: [2, 3], filterSize: 3, hidden: 6, classes: 3 });
const batch = () => ({ x: randomTensor([4, 1, 12, 12], 1, 0, 1), y: T.tensor(Int32Array.from([0, 1, 2, 1])) });

function trainSteps(model: Module, opt: Optimizer, n: number, x: Tensor, y: Tensor): number[] {
  const losses: number[] = [];
  for (let i = 0; i < n; i++) {
    T.tidy(() => {
      const loss = crossEntropyLoss(model.forward(x), y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      losses.push(loss.item());
    });
  }
  return losses;
}

function snapshot(model: Module): Record<string, number[]> {
  return Object.fromEntries([...model.stateDict()].map(([k, t]) => [k, values(t)]));
}

describe("saveCheckpoint / loadCheckpoint", () => {
  it("round-trips weights, SGD momentum state and metadata; training resumes exactly", async () => {
    const dir = tempDir();
    const file = path.join(dir, "lenet.safetensors");
    const { x, y } = batch();

    const a = small();
    const optA = new SGD(a.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    trainSteps(a, optA, 3, x, y);
    const rngState = new RandomState(7).getState();
    await saveCheckpoint(file, a, { optimizer: optA, metadata: { epoch: 3, bestError: 0.0125, note: "after 3 steps", rng: rngState } });
    expect(fs.existsSync(path.join(dir, "lenet.optim.safetensors"))).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);

    const b = new LeNet5({ inputShape: [1, 12, 12], kernels: [2, 3], filterSize: 3, hidden: 6, classes: 3, seed: 99 });
    const optB = new SGD(b.parameters(), { lr: 1, momentum: 0.9, weightDecay: 1e-4 });
    const { metadata } = await loadCheckpoint(file, b, { optimizer: optB });
    expect(metadata.epoch).toBe(3);
    expect(metadata.bestError).toBe(0.0125);
    expect(metadata.note).toBe("after 3 steps");
    expect(metadata.rng).toEqual(JSON.parse(JSON.stringify(rngState)));
    expect(metadata.format).toBe("pt");
    expect((metadata.tessera as { version: number }).version).toBe(1);
    expect(snapshot(b)).toEqual(snapshot(a));
    expect(optB.lr).toBe(0.05);
    expect(optB.stepCount).toBe(3);
    const stateA = optA.stateDict().tensors;
    const stateB = optB.stateDict().tensors;
    expect([...stateB.keys()]).toEqual([...stateA.keys()]);
    expect([...stateB.keys()]).toHaveLength(8);
    for (const [k, t] of stateA) expect(values(stateB.get(k)!), k).toEqual(values(t));

    // The same next steps from both: momentum really was restored.
    const lossesA = trainSteps(a, optA, 2, x, y);
    const lossesB = trainSteps(b, optB, 2, x, y);
    expect(lossesB).toEqual(lossesA);
    expect(snapshot(b)).toEqual(snapshot(a));

    for (const t of [a, b, optA, optB]) t.dispose();
    T.dispose([x, y]);
  });

  it("round-trips Adam's state", async () => {
    const file = path.join(tempDir(), "adam.safetensors");
    const { x, y } = batch();
    const a = small();
    const optA = new Adam(a.parameters(), { lr: 0.01 });
    trainSteps(a, optA, 2, x, y);
    await saveCheckpoint(file, a, { optimizer: optA });
    const b = small();
    const optB = new Adam(b.parameters(), { lr: 0.5 });
    await loadCheckpoint(file, b, { optimizer: optB });
    expect(optB.stepCount).toBe(2);
    expect(trainSteps(b, optB, 2, x, y)).toEqual(trainSteps(a, optA, 2, x, y));
    for (const t of [a, b, optA, optB]) t.dispose();
    T.dispose([x, y]);
  });

  it("writes a plain safetensors state dict (what PyTorch's load_state_dict needs) with string metadata", async () => {
    const file = path.join(tempDir(), "model.safetensors");
    const model = small();
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.5 });
    const { x, y } = batch();
    trainSteps(model, opt, 1, x, y);
    await saveCheckpoint(file, model, { optimizer: opt, metadata: { step: 1 } });
    const { tensors, metadata } = await loadSafetensors(file);
    expect([...tensors.keys()].sort()).toEqual(LENET5_STATE_NAMES);
    for (const [k, t] of model.stateDict()) {
      expect(tensors.get(k)!.dtype).toBe("float32");
      expect(tensors.get(k)!.shape).toEqual([...t.shape]);
      expect(Array.from(tensors.get(k)!.data)).toEqual(values(t));
    }
    expect(Object.values(metadata).every((v) => typeof v === "string")).toBe(true);
    expect(metadata.step).toBe("1");
    expect(JSON.parse(metadata.optimizer!)).toEqual({ type: "SGD", scalars: { lr: 0.1, stepCount: 1 }, tensors: 8 });
    const side = await loadSafetensors(path.join(path.dirname(file), "model.optim.safetensors"));
    expect([...side.tensors.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `${i}.momentum`).sort());
    for (const t of [model, opt]) t.dispose();
    T.dispose([x, y]);
  });

  it("saves without an optimizer; asking for optimizer state then is an error naming the file", async () => {
    const file = path.join(tempDir(), "weights.safetensors");
    const model = new Sequential(new Conv2d(1, 2, 3), new Tanh(), new Flatten(), new Linear(8, 2));
    await saveCheckpoint(file, model);
    expect(fs.readdirSync(path.dirname(file))).toEqual(["weights.safetensors"]);
    const other = new Sequential(
      new Conv2d(1, 2, 3, { generator: new RandomState(1) }),
      new Tanh(),
      new Flatten(),
      new Linear(8, 2, { generator: new RandomState(2) }),
    );
    const { metadata } = await loadCheckpoint(file, other);
    expect(Object.keys(metadata).sort()).toEqual(["format", "tessera"]);
    expect(metadata.format).toBe("pt");
    expect(snapshot(other)).toEqual(snapshot(model));
    const opt = new SGD(other.parameters(), { lr: 0.1 });
    const err = await loadCheckpoint(file, other, { optimizer: opt }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toBe(`checkpoint ${file}: no optimizer state was saved in it`);
    model.dispose();
    other.dispose();
  });

  it("plain SGD (no state tensors) writes no sidecar and still restores lr and step count", async () => {
    const file = path.join(tempDir(), "plain.safetensors");
    const model = small();
    const opt = new SGD(model.parameters(), { lr: 0.1 });
    const { x, y } = batch();
    trainSteps(model, opt, 2, x, y);
    await saveCheckpoint(file, model, { optimizer: opt });
    expect(fs.readdirSync(path.dirname(file))).toEqual(["plain.safetensors"]);
    const opt2 = new SGD(model.parameters(), { lr: 3 });
    await loadCheckpoint(file, model, { optimizer: opt2 });
    expect([opt2.lr, opt2.stepCount]).toEqual([0.1, 2]);
    for (const t of [model, opt]) t.dispose();
    T.dispose([x, y]);
  });

  it("checks names and shapes on load (strict by default) and leaves the model untouched on error", async () => {
    const file = path.join(tempDir(), "mlp.safetensors");
    const saved = new Sequential(new Linear(4, 3), new Tanh(), new Linear(3, 2));
    await saveCheckpoint(file, saved);
    const target = new Sequential(new Linear(4, 3), new Tanh(), new Linear(3, 5), new Linear(5, 1));
    const before = snapshot(target);
    const err = (await loadCheckpoint(file, target).catch((e: unknown) => e)) as StateDictError;
    expect(err).toBeInstanceOf(StateDictError);
    expect(err.missing).toEqual(["3.weight", "3.bias"]);
    expect(err.unexpected).toEqual([]);
    expect(err.mismatched).toEqual([
      { name: "2.weight", expected: [5, 3], got: [2, 3] },
      { name: "2.bias", expected: [5], got: [2] },
    ]);
    expect(snapshot(target)).toEqual(before);
    // Non-strict loading still refuses the shape mismatches.
    await expect(loadCheckpoint(file, target, { strict: false })).rejects.toThrow(/shape mismatches: 2.weight expects \[5,3\] but got \[2,3\]/);
    // A non-strict load of a sub-model takes what matches.
    const partial = new Sequential(new Linear(4, 3, { generator: new RandomState(5) }));
    await loadCheckpoint(file, partial, { strict: false });
    expect(values(partial.stateDict().get("0.weight")!)).toEqual(values(saved.stateDict().get("0.weight")!));
    for (const t of [saved, target, partial]) t.dispose();
  });

  it("records a self-describing model's architecture in __metadata__; the config rebuilds a model that loads strictly", async () => {
    const file = path.join(tempDir(), "arch.safetensors");
    const model = small();
    await saveCheckpoint(file, model, { metadata: { epoch: 1 } });
    const raw = await loadSafetensors(file);
    const config = { inputShape: [1, 12, 12], kernels: [2, 3], filterSize: 3, poolSize: 2, hidden: 6, classes: 3, init: "theano-conv" };
    expect(JSON.parse(raw.metadata.architecture!)).toEqual({ type: "LeNet5", config });
    const { metadata } = await loadCheckpoint(file, model);
    const arch = metadata.architecture as { type: string; config: LeNet5Options };
    expect(arch).toEqual({ type: "LeNet5", config });
    const rebuilt = new LeNet5({ ...arch.config, seed: 7 });
    await loadCheckpoint(file, rebuilt);
    expect(snapshot(rebuilt)).toEqual(snapshot(model));
    // An explicit metadata.architecture wins over the model's own description.
    await saveCheckpoint(file, model, { metadata: { architecture: "custom" } });
    expect((await loadSafetensors(file)).metadata.architecture).toBe('"custom"');
    for (const t of [model, rebuilt]) t.dispose();
  });

  it("refuses optimizer state saved by another optimizer type, naming the file and both types, before changing anything", async () => {
    const file = path.join(tempDir(), "sgd.safetensors");
    const { x, y } = batch();
    const a = small();
    const sgd = new SGD(a.parameters(), { lr: 0.1, momentum: 0.9 });
    trainSteps(a, sgd, 1, x, y);
    await saveCheckpoint(file, a, { optimizer: sgd });
    const b = new LeNet5({ inputShape: [1, 12, 12], kernels: [2, 3], filterSize: 3, hidden: 6, classes: 3, seed: 3 });
    const before = snapshot(b);
    const adam = new Adam(b.parameters(), { lr: 0.01 });
    const err = await loadCheckpoint(file, b, { optimizer: adam }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as Error).message).toBe(`checkpoint ${file}: its optimizer state was saved by SGD, but the given optimizer is Adam`);
    expect(snapshot(b)).toEqual(before);
    expect([adam.lr, adam.stepCount, adam.stateDict().tensors.size]).toEqual([0.01, 0, 0]);
    // And the other way round.
    const adamFile = path.join(tempDir(), "adam.safetensors");
    trainSteps(b, adam, 1, x, y);
    await saveCheckpoint(adamFile, b, { optimizer: adam });
    await expect(loadCheckpoint(adamFile, a, { optimizer: sgd })).rejects.toThrow(
      `checkpoint ${adamFile}: its optimizer state was saved by Adam, but the given optimizer is SGD`,
    );
    for (const t of [a, b, sgd, adam]) t.dispose();
    T.dispose([x, y]);
  });

  it("reports a missing file as a CheckpointError", async () => {
    const model = new Linear(2, 2);
    const file = path.join(tempDir(), "nope.safetensors");
    await expect(loadCheckpoint(file, model)).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(file, model)).rejects.toThrow(`checkpoint ${file}: cannot read file`);
    model.dispose();
  });
});
