import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadMnist, writeIdx } from "@tessera/datasets";
import { loadSafetensors } from "@tessera/nn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, tempDir } from "./helpers.js";

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp.cleanup());

/** Writes the first `train` training and `test` test images of MNIST as the four IDX files. */
async function writeSubset(dir: string, train: number, test: number, gzip: boolean): Promise<void> {
  const mnist = await loadMnist({ validation: 0 });
  const gz = gzip ? ".gz" : "";
  const labels = (l: Int32Array, n: number) => Uint8Array.from(l.subarray(0, n)); // MNIST labels are bytes
  await writeIdx(join(dir, `train-images-idx3-ubyte${gz}`), { data: mnist.train.images.subarray(0, train * 784), shape: [train, 28, 28] });
  await writeIdx(join(dir, `train-labels-idx1-ubyte${gz}`), { data: labels(mnist.train.labels, train) });
  await writeIdx(join(dir, `t10k-images-idx3-ubyte${gz}`), { data: mnist.test.images.subarray(0, test * 784), shape: [test, 28, 28] });
  await writeIdx(join(dir, `t10k-labels-idx1-ubyte${gz}`), { data: labels(mnist.test.labels, test) });
}

async function weights(path: string): Promise<Record<string, number[]>> {
  const { tensors } = await loadSafetensors(path);
  return Object.fromEntries([...tensors].map(([k, v]) => [k, Array.from(v.data)]));
}

describe("--data DIR", () => {
  it("trains on MNIST-format IDX files from a directory, plain or gzip, to the same numbers", async () => {
    // 10,200 training images: the tutorial's split keeps the last 10,000 for validation, so 200 train.
    const [plain, gzip] = [join(tmp.dir, "plain"), join(tmp.dir, "gzip")];
    await mkdir(plain);
    await mkdir(gzip);
    await writeSubset(plain, 10_200, 200, false);
    await writeSubset(gzip, 10_200, 200, true);
    const flags = ["--batch-size", "20", "--epochs", "1", "--limit-valid", "100", "--limit-test", "100"];
    const runs: string[] = [];
    for (const [data, name] of [
      [plain, "train-images-idx3-ubyte"],
      [gzip, "train-images-idx3-ubyte.gz"],
    ] as const) {
      const out = join(tmp.dir, `run-${runs.length}`);
      const r = await cli([...flags, "--data", data, "--out", out]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("... training: preset tutorial, backend cpu, batch 20, lr 0.1, up to 1 epoch, patience 10000, 10 minibatches/epoch");
      const config = JSON.parse(await readFile(join(out, "config.json"), "utf8"));
      expect(config.settings.data).toBe(data);
      expect(config.data).toMatchObject({ dir: data, train_images: 200, validation_images: 100, test_images: 100 });
      expect(config.data.files.trainImages).toBe(join(data, name));
      runs.push(out);
    }
    expect(await weights(join(runs[1]!, "last.safetensors"))).toEqual(await weights(join(runs[0]!, "last.safetensors")));
    const metrics = async (run: string) => (await readFile(join(run, "metrics.csv"), "utf8")).split("\n").map((l) => l.split(",").slice(0, 5).join(","));
    expect(await metrics(runs[1]!)).toEqual(await metrics(runs[0]!));
  });
});
