import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LeNet5, loadSafetensors, saveSafetensors } from "@tessera/nn";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { settingsFromFlags } from "../src/config/resolve.js";
import { loadRunData } from "../src/data/load.js";
import { encodePng } from "../src/images/raster.js";
import { networkOf } from "../src/model/network.js";
import { layerRows, layerTable, networkCost } from "../src/report/layer-table.js";
import { Trainer } from "../src/train/trainer.js";
import { TINY, cli, tempDir } from "./helpers.js";

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp.cleanup());

const dir = (name: string) => join(tmp.dir, name);
const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8"));

describe("the layer table", () => {
  it("gives the tutorial's network the chapter's costs: 288,000 + 1,600,000 + 400,000 + 5,000 multiply-adds per image", () => {
    const net = networkOf(settingsFromFlags({}));
    expect(layerRows(net).map((r) => [r.layer, r.output.join("x"), r.parameters, r.multiplyAdds])).toEqual([
      ["input", "1x28x28", 0, 0],
      ["layer0", "20x24x24", 20 * 25 + 20, 20 * 24 * 24 * 25],
      ["", "20x12x12", 0, 0],
      ["layer1", "50x8x8", 50 * 20 * 25 + 50, 50 * 8 * 8 * 25 * 20],
      ["", "50x4x4", 0, 0],
      ["layer2", "500", 800 * 500 + 500, 800 * 500],
      ["layer3", "10", 500 * 10 + 10, 500 * 10],
    ]);
    expect(networkCost(net)).toEqual({ parameters: 431_080, multiplyAdds: 2_293_000 });
    const model = new LeNet5(net);
    expect(model.parameterCount()).toBe(431_080);
    model.dispose();
  });

  it("prints aligned columns with thousands separators and the formula", () => {
    const lines = layerTable(networkOf(settingsFromFlags({})));
    expect(lines[0]).toBe(
      "... network: LeNet-5, init theano-conv (the drawn filters flipped, as Theano's convolution applied them: the tutorial's exact start); per image:",
    );
    expect(lines.slice(1, -1)).toEqual([
      "  layer   what                        output    parameters  multiply-adds",
      "  input   MNIST image                 1x28x28",
      "  layer0  conv 5x5, 20 filters        20x24x24         520        288,000",
      "          max-pool 2x2, + bias, tanh  20x12x12",
      "  layer1  conv 5x5, 50 filters        50x8x8        25,050      1,600,000",
      "          max-pool 2x2, + bias, tanh  50x4x4",
      "  layer2  dense 800 -> 500, tanh      500          400,500        400,000",
      "  layer3  dense 500 -> 10, softmax    10             5,010          5,000",
      "  total                                            431,080      2,293,000",
    ]);
    expect(lines.at(-1)).toContain("K(l) x (M-m+1)(N-n+1) x m x n x K(l-1)");
  });
});

describe("pnpm --filter lenet-cli start", () => {
  it("starts from the tutorial's exact weights: numpy's RandomState(23455) filters, flipped; --init as-drawn keeps them as drawn", async () => {
    const data = await loadRunData(null, { limitTrain: 500, limitValid: 10, limitTest: 10 });
    const first = async (flags: Parameters<typeof settingsFromFlags>[0]) => {
      const trainer = await Trainer.create({ settings: settingsFromFlags(flags), data, outDir: dir("unused"), backendName: "cpu" });
      try {
        const w = (await trainer.model.conv1.weight.data()) as Float32Array;
        const w2 = (await trainer.model.conv2.weight.data()) as Float32Array;
        return { config: trainer.model.config, conv1: [w[0], w[24]], conv2: w2[0] };
      } finally {
        trainer.dispose();
      }
    };
    // numpy.random.RandomState(23455).uniform(-sqrt(3/25), sqrt(3/25), (20, 1, 5, 5)) as float32:
    // W0[0,0,0,0] = 0.2320554405450821 and W0[0,0,4,4] = 0.16084544360637665; the first value of
    // the flipped layer1 W is 0.0593997985124588 (packages/nn/scripts/make-lenet-*-fixture.py).
    const tutorial = await first({});
    expect(tutorial.config.init).toBe("theano-conv");
    expect(tutorial.conv1).toEqual([0.16084544360637665, 0.2320554405450821]);
    expect(tutorial.conv2).toBe(0.0593997985124588);
    const mirrored = await first({ init: "as-drawn" });
    expect(mirrored.conv1).toEqual([0.2320554405450821, 0.16084544360637665]);
  });
});

describe("a network of another shape (--kernels 10,20 --filter-size 3 --hidden 50)", () => {
  const SHAPE = ["--kernels", "10,20", "--filter-size", "3", "--hidden", "50"];
  let run: Awaited<ReturnType<typeof cli>>;
  beforeAll(async () => {
    run = await cli([...TINY, ...SHAPE, "--epochs", "1", "--init", "as-drawn", "--out", dir("small")]);
  }, 300_000);

  it("trains, printing its layer table first", () => {
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    const at = lines.findIndex((l) => l.startsWith("... network: LeNet-5, init as-drawn"));
    expect(at).toBe(2);
    expect(lines.slice(at + 2, at + 10).map((l) => l.trim().split(/\s{2,}/))).toEqual([
      ["input", "MNIST image", "1x28x28"],
      ["layer0", "conv 3x3, 10 filters", "10x26x26", "100", "60,840"],
      ["max-pool 2x2, + bias, tanh", "10x13x13"],
      ["layer1", "conv 3x3, 20 filters", "20x11x11", "1,820", "217,800"],
      ["max-pool 2x2, + bias, tanh", "20x5x5"],
      ["layer2", "dense 500 -> 50, tanh", "50", "25,050", "25,000"],
      ["layer3", "dense 50 -> 10, softmax", "10", "510", "500"],
      ["total", "27,480", "304,140"],
    ]);
    expect(run.stdout).toContain("Optimization complete.");
  });

  it("records the network in config.json, summary.json and the checkpoints", async () => {
    const config = await readJson(join(dir("small"), "config.json"));
    expect(config.settings).toMatchObject({ kernels: [10, 20], filterSize: 3, poolSize: 2, hidden: 50, init: "as-drawn" });
    const summary = await readJson(join(dir("small"), "summary.json"));
    expect(summary.init).toBe("as-drawn");
    expect(summary.network).toEqual({ kernels: [10, 20], filter_size: 3, pool_size: 2, hidden: 50, parameters: 27_480, multiply_adds_per_image: 304_140 });
    for (const file of ["best.safetensors", "last.safetensors"]) {
      const { tensors, metadata } = await loadSafetensors(join(dir("small"), file));
      expect(JSON.parse(metadata.architecture!), file).toEqual({
        type: "LeNet5",
        config: { inputShape: [1, 28, 28], kernels: [10, 20], filterSize: 3, poolSize: 2, hidden: 50, classes: 10, init: "as-drawn" },
      });
      expect(tensors.get("conv1.weight")!.shape).toEqual([10, 1, 3, 3]);
      expect(tensors.get("fc1.weight")!.shape).toEqual([50, 500]);
    }
  });

  it("evaluates from its checkpoint, rebuilding the network it records", async () => {
    const r = await cli(["evaluate", dir("small"), "--limit-valid", "200", "--limit-test", "200"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[1]).toBe(
      "network: LeNet-5 with --kernels 10,20 --filter-size 3 --pool-size 2 --hidden 50, 27,480 parameters, 304,140 multiply-adds per image (trained from --init as-drawn)",
    );
    const summary = await readJson(join(dir("small"), "summary.json"));
    expect(Number(lines[2]!.match(/^validation error (\d+\.\d+) %/)![1])).toBe(summary.best_validation_error);
    expect(Number(lines[3]!.match(/^test error (\d+\.\d+) %/)![1])).toBe(summary.test_error);
  });

  it("predicts with it", async () => {
    // A dark vertical bar on white: a "1".
    const [w, h] = [40, 60];
    const pixels = new Uint8Array(w * h * 4).map((_, i) => (i % 4 === 3 ? 255 : 250));
    for (let y = 8; y < 52; y++) for (let x = 17; x < 23; x++) pixels.set([10, 10, 10], (y * w + x) * 4);
    await writeFile(dir("bar.png"), encodePng({ width: w, height: h, data: pixels }));
    const r = await cli(["predict", dir("small"), "bar.png"], { cwd: tmp.dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^bar\.png: \d \(probability \d\.\d{4}\)\n/);
  });

  it("resumes with the same network and refuses to change it", async () => {
    for (const [flag, value] of [
      ["--kernels", "20,50"],
      ["--filter-size", "5"],
      ["--pool-size", "1"],
      ["--hidden", "500"],
      ["--init", "theano-conv"],
    ] as const) {
      const r = await cli(["--resume", dir("small"), flag, value]);
      expect(r.code, flag).toBe(2);
      expect(r.stderr.split("\n")[0], flag).toMatch(
        new RegExp(`^lenet-cli: ${flag} cannot change when resuming \\(the run used [^,]+(,\\d+)?, got ${value}\\)$`),
      );
    }
    const same = await cli(["--resume", dir("small"), "--kernels", "10,20", "--epochs", "2"]);
    expect(same.stderr).toBe("");
    expect(same.code).toBe(0);
    expect(same.stdout).toContain("  layer0  conv 3x3, 10 filters");
    expect((await readJson(join(dir("small"), "summary.json"))).last_epoch).toBe(2);
  });

  it("is refused, before any data is read, when a filter or pooling window leaves no feature map", async () => {
    const cases: Array<[string[], string]> = [
      [
        ["--filter-size", "13"],
        "lenet-cli: --filter-size 13 does not fit conv2's 8x8 input (input 28x28, conv1 13x13 -> 16x16, pool 2x2 -> 8x8): no feature map is left of MNIST's 28x28 images; lower --filter-size or --pool-size",
      ],
      [
        ["--pool-size", "4"],
        "lenet-cli: --pool-size 4 does not fit conv2's 2x2 feature maps (input 28x28, conv1 5x5 -> 24x24, pool 4x4 -> 6x6, conv2 5x5 -> 2x2): no feature map is left of MNIST's 28x28 images; lower --filter-size or --pool-size",
      ],
      [
        ["--filter-size", "28"],
        "lenet-cli: --pool-size 2 does not fit conv1's 1x1 feature maps (input 28x28, conv1 28x28 -> 1x1): no feature map is left of MNIST's 28x28 images; lower --filter-size or --pool-size",
      ],
    ];
    for (const [argv, message] of cases) {
      const r = await cli([...argv, "--data", dir("no-such-dir")]);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.split("\n")[0]).toBe(message);
    }
    const bad = await cli(["--kernels", "10"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n")[0]).toBe('lenet-cli: --kernels: expected two integers from 1 to 10000 separated by a comma (as 20,50), got "10"');
  });
});

describe("a checkpoint without an architecture record", () => {
  it("is taken for the tutorial's LeNet-5, and a mismatch says so", async () => {
    const { tensors } = await loadSafetensors(join(dir("small"), "best.safetensors"));
    await saveSafetensors(dir("bare.safetensors"), tensors, { format: "pt" });
    const r = await cli(["evaluate", dir("bare.safetensors"), "--limit-valid", "20", "--limit-test", "20"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^lenet-cli: cannot load .*bare\.safetensors: loadStateDict: shape mismatches: conv1\.weight expects \[20,1,5,5\] but got \[10,1,3,3\]/,
    );
    expect(r.stderr.trim()).toMatch(/\(it records no architecture, so it was taken for the tutorial's LeNet-5\)$/);
  });
});
