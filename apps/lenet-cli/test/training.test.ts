import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadSafetensors } from "@tessera/nn";
import { memory } from "@tessera/tensor";
import jpeg from "jpeg-js";
import pngjs from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STOPPING_LINE } from "../src/commands/train.js";
import { encodePng } from "../src/images/raster.js";
import { METRICS_COLUMNS } from "../src/report/metrics.js";
import { TINY, cli, tempDir } from "./helpers.js";

const { PNG } = pngjs;

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(async () => tmp.cleanup());

const dir = (name: string) => join(tmp.dir, name);
const readText = (path: string) => readFile(path, "utf8");

/** metrics.csv without its two timing columns. */
async function metricsWithoutTimings(run: string): Promise<string[]> {
  const lines = (await readText(join(run, "metrics.csv"))).trimEnd().split("\n");
  return lines.map((l) => l.split(",").slice(0, -2).join(","));
}

/** summary.json without the timings. */
async function summaryWithoutTimings(run: string): Promise<Record<string, unknown>> {
  const s = JSON.parse(await readText(join(run, "summary.json"))) as Record<string, unknown>;
  for (const k of ["wall_seconds", "train_seconds", "train_images_per_second"]) {
    expect(typeof s[k]).toBe("number");
    delete s[k];
  }
  return s;
}

async function weights(path: string): Promise<Record<string, number[]>> {
  const { tensors } = await loadSafetensors(path);
  return Object.fromEntries([...tensors].map(([k, v]) => [k, Array.from(v.data)]));
}

// One uninterrupted small run (1000 training images, 50 minibatches of 20, 2 epochs) that the
// other tests compare against and reuse.
let reference: Awaited<ReturnType<typeof cli>>;
beforeAll(async () => {
  reference = await cli([...TINY, "--epochs", "2", "--out", dir("full")]);
}, 600_000);

describe("a training run", () => {
  it("prints the tutorial's lines and report", () => {
    expect(reference.code).toBe(0);
    expect(reference.stderr).toBe("");
    const lines = reference.stdout.trimEnd().split("\n");
    expect(lines.slice(0, 2)).toEqual(["... loading data", "... building the model"]);
    expect(lines.filter((l) => l.startsWith("epoch "))).toEqual([
      expect.stringMatching(/^epoch 1, minibatch 50\/50, validation error \d+\.\d{6} %$/),
      expect.stringMatching(/^epoch 2, minibatch 50\/50, validation error \d+\.\d{6} %$/),
    ]);
    expect(lines.some((l) => /^ {5}epoch 1, minibatch 50\/50, test error of best model \d+\.\d{6} %$/.test(l))).toBe(true);
    expect(lines.slice(-3)[0]).toBe("Optimization complete.");
    expect(lines.slice(-2)[0]).toMatch(/^Best validation score of \d+\.\d{6} % obtained at iteration (49|99), with test performance \d+\.\d{6} %$/);
    expect(lines.slice(-1)[0]).toMatch(/^The code ran for \d+\.\d{2}m$/);
    // Not a terminal: no carriage returns or escape sequences.
    expect(/[\r\x1b]/.test(reference.stdout)).toBe(false);
  });

  it("leaves every result file in --out", async () => {
    const run = dir("full");
    for (const f of ["config.json", "metrics.csv", "summary.json", "best.safetensors", "last.safetensors", "curves.svg", "filters.png"]) {
      expect((await stat(join(run, f))).size, f).toBeGreaterThan(0);
    }
    const config = JSON.parse(await readText(join(run, "config.json")));
    expect(config.settings).toMatchObject({ batchSize: 20, lr: 0.1, epochs: 2, patience: 10000, seed: 23455, limitTrain: 1000 });
    expect(config.backend).toMatchObject({ name: "cpu", adapter: null });
    expect(config.versions["@tessera/nn"]).toMatch(/^\d+\.\d+\.\d+/);
    expect(config.machine).toMatchObject({ cpus: expect.any(Number), node: process.version });
    expect(typeof config.machine.os).toBe("string");

    const csv = (await readText(join(run, "metrics.csv"))).trimEnd().split("\n");
    expect(csv[0]).toBe(METRICS_COLUMNS.join(","));
    expect(csv).toHaveLength(3);
    expect(csv[1]).toMatch(/^1,49,\d+\.\d{6},\d+\.\d{6},\d+\.\d{6},\d+\.\d{3},\d+\.\d{2}$/);
    expect(csv[2]).toMatch(/^2,99,\d+\.\d{6},\d+\.\d{6},(\d+\.\d{6})?,\d+\.\d{3},\d+\.\d{2}$/);

    const summary = JSON.parse(await readText(join(run, "summary.json")));
    expect(summary).toMatchObject({ status: "finished", stop_reason: "epochs", backend: "cpu", iterations: 100, last_epoch: 2, images_trained: 2000 });
    expect(summary).toMatchObject({ init: "theano-conv", network: { kernels: [20, 50], filter_size: 5, pool_size: 2, hidden: 500, parameters: 431_080 } });
    expect(config.settings).toMatchObject({ init: "theano-conv", kernels: [20, 50], filterSize: 5, poolSize: 2, hidden: 500 });
    for (const k of ["best_validation_error", "best_iteration", "test_error", "wall_seconds", "train_images_per_second"])
      expect(typeof summary[k], k).toBe("number");
    expect(reference.stdout).toContain(`obtained at iteration ${summary.best_iteration}, with test performance ${summary.test_error.toFixed(6)} %`);

    const svg = await readText(join(run, "curves.svg"));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    for (const label of ["validation", "test (best model)", "train loss", "iteration"]) expect(svg).toContain(label);

    const png = PNG.sync.read(await readFile(join(run, "filters.png")));
    expect([png.width, png.height]).toEqual([5 * 50 + 6 * 4, 4 * 50 + 5 * 4]);

    const last = await loadSafetensors(join(run, "last.safetensors"));
    expect([...last.tensors.keys()].sort()).toEqual([
      "conv1.bias",
      "conv1.weight",
      "conv2.bias",
      "conv2.weight",
      "fc1.bias",
      "fc1.weight",
      "fc2.bias",
      "fc2.weight",
    ]);
    const state = JSON.parse(last.metadata.run!);
    expect(state).toMatchObject({ epoch: 3, minibatch: 0, stopReason: "epochs" });
    expect(state.rng.key).toHaveLength(624);
    expect(JSON.parse(last.metadata.optimizer!)).toMatchObject({ type: "SGD", scalars: { lr: 0.1, stepCount: 100 } });
  });

  it("gives a resumed run exactly the numbers of an uninterrupted one (1 epoch, then --resume for the 2nd)", async () => {
    const split = dir("split");
    const tensorsBefore = memory().tensors;
    const first = await cli([...TINY, "--epochs", "1", "--out", split]);
    expect(first.code).toBe(0);
    expect(memory().tensors).toBe(tensorsBefore); // nothing leaks across a whole run
    const second = await cli(["--resume", split, "--epochs", "2"]);
    expect(memory().tensors).toBe(tensorsBefore);
    expect(second.stderr).toBe("");
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`... resuming from ${join(split, "last.safetensors")}`);
    expect(await metricsWithoutTimings(split)).toEqual(await metricsWithoutTimings(dir("full")));
    expect(await summaryWithoutTimings(split)).toEqual(await summaryWithoutTimings(dir("full")));
    expect(await weights(join(split, "last.safetensors"))).toEqual(await weights(join(dir("full"), "last.safetensors")));
    expect(await weights(join(split, "best.safetensors"))).toEqual(await weights(join(dir("full"), "best.safetensors")));
    const lastLines = (s: string) => s.trimEnd().split("\n").slice(-3, -1);
    expect(lastLines(second.stdout)).toEqual(lastLines(reference.stdout));
    const config = JSON.parse(await readText(join(split, "config.json")));
    expect(config.settings.epochs).toBe(2);
    expect(config.resumed).toHaveLength(1);
  });

  it("stops on the abort signal (Ctrl-C) after the current step, saves last.safetensors, exits 130, and resumes to the same numbers", async () => {
    const run = dir("aborted");
    const stop = new AbortController();
    let stepsSeen = 0;
    const first = await cli([...TINY, "--epochs", "2", "--out", run], {
      signal: stop.signal,
      progressIntervalMs: 1, // a plain progress line after (about) every step
      onStdout: (text) => {
        // Abort in the middle of epoch 1, when its 3rd minibatch is reported. A step's loss is
        // read while the next step runs, so the 4th is the current step then: training stops after it.
        if (/^progress: epoch 1\/2, minibatch 3\/50/.test(text)) {
          stepsSeen = 3;
          stop.abort();
        }
      },
    });
    expect(stepsSeen).toBe(3);
    expect(first.code).toBe(130);
    expect(first.stderr.trim().split("\n")).toEqual([
      STOPPING_LINE,
      `Interrupted in epoch 1 after 4/50 minibatches (4 iterations): saved ${join(run, "last.safetensors")}; continue with --resume ${run}`,
    ]);
    const state = JSON.parse((await loadSafetensors(join(run, "last.safetensors"))).metadata.run!);
    expect(state).toMatchObject({ epoch: 1, minibatch: 4, stopReason: null, history: [] });
    expect(state.interval.steps).toBe(4);
    expect(JSON.parse(await readText(join(run, "summary.json"))).status).toBe("interrupted");

    const second = await cli(["--resume", run]);
    expect(second.code).toBe(0);
    expect(await metricsWithoutTimings(run)).toEqual(await metricsWithoutTimings(dir("full")));
    expect(await summaryWithoutTimings(run)).toEqual(await summaryWithoutTimings(dir("full")));
    expect(await weights(join(run, "last.safetensors"))).toEqual(await weights(join(dir("full"), "last.safetensors")));
  });

  it("stops with exit code 1 when the loss stops being finite, leaving the best checkpoint as it was", async () => {
    const run = dir("diverge");
    expect((await cli([...TINY, "--epochs", "1", "--out", run])).code).toBe(0);
    const best = await readFile(join(run, "best.safetensors"));
    const last = await readFile(join(run, "last.safetensors"));
    // lr 1e9 is not enough here: tanh bounds the activations and the loss climbs to ~1e11 but
    // stays finite (1e20 and 1e30 too, from these weights); 1e38 overflows the float32 weights.
    const r = await cli(["--resume", run, "--epochs", "2", "--lr", "1e38"]);
    expect(r.code).toBe(1);
    const err = r.stderr.trimEnd().split("\n");
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      /^lenet-cli: training stopped: the loss became (NaN|Infinity|-Infinity) at epoch 2, minibatch \d+\/50 \(iteration \d+\) with learning rate 1e\+38; try a lower --lr\. best\.safetensors \(iteration 49\) is kept$/,
    );
    // Buffer.equals: toEqual walks the 1.7 MB byte by byte, which takes most of a minute.
    expect((await readFile(join(run, "best.safetensors"))).equals(best)).toBe(true);
    expect((await readFile(join(run, "last.safetensors"))).equals(last)).toBe(true);
    expect(JSON.parse(await readText(join(run, "summary.json"))).status).toBe("diverged");
  });

  it("refuses to start a new run in a --out that holds files, leaving them as they were", async () => {
    const run = dir("full");
    const before = await Promise.all(["best.safetensors", "metrics.csv", "config.json"].map((f) => readFile(join(run, f))));
    const r = await cli([...TINY, "--epochs", "1", "--out", run]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toEqual([
      `lenet-cli: --out ${run} already holds files (best.safetensors, config.json, curves.svg, filters.png, ... (7 files)); ` +
        `continue that run with --resume ${run}, choose another --out, or add --force to overwrite them`,
    ]);
    const after = await Promise.all(["best.safetensors", "metrics.csv", "config.json"].map((f) => readFile(join(run, f))));
    expect(after).toEqual(before);
    // the same for a resumed run moved to another folder that holds files
    const moved = await cli(["--resume", dir("full"), "--out", tmp.dir, "--epochs", "3"]);
    expect(moved.code).toBe(2);
    expect(moved.stderr).toMatch(/^lenet-cli: --out .* already holds files/);
  });

  it("with --force, starts afresh in such a --out: an earlier run's files go, other files stay", async () => {
    const run = dir("forced");
    await mkdir(run);
    await writeFile(join(run, "notes.txt"), "mine");
    await writeFile(join(run, "best.safetensors"), "an earlier run's");
    await writeFile(join(run, "last.optim.safetensors"), "an earlier run's");
    const r = await cli([...TINY, "--epochs", "1", "--out", run, "--force"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(await readText(join(run, "notes.txt"))).toBe("mine");
    expect(JSON.parse((await loadSafetensors(join(run, "best.safetensors"))).metadata.kind!)).toBe("best");
    // plain SGD has no optimizer tensors, so the new run writes no last.optim.safetensors
    await expect(stat(join(run, "last.optim.safetensors"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses to resume what is not a run", async () => {
    const r = await cli(["--resume", dir("nothing-here")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`lenet-cli: ${join(dir("nothing-here"), "config.json")}: not found (is it a run directory?)`);
    const changed = await cli(["--resume", dir("full"), "--batch-size", "10"]);
    expect(changed.code).toBe(2);
    expect(changed.stderr.split("\n")[0]).toBe("lenet-cli: --batch-size cannot change when resuming (the run used 20, got 10)");
  });

  it("reports a missing data directory in one line with exit code 1", async () => {
    const r = await cli([...TINY, "--data", dir("no-mnist"), "--out", dir("x")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^lenet-cli: cannot load MNIST: .*no-mnist: directory not found/);
  });
});

describe("evaluate", () => {
  it("prints validation and test error and a confusion matrix of a checkpoint", async () => {
    const r = await cli(["evaluate", join(dir("full"), "best.safetensors"), "--limit-valid", "200", "--limit-test", "200"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^checkpoint .*best\.safetensors \(saved at epoch \d, iteration \d+\), backend cpu$/);
    const summary = JSON.parse(await readText(join(dir("full"), "summary.json")));
    expect(lines[1]).toBe(
      "network: LeNet-5 with --kernels 20,50 --filter-size 5 --pool-size 2 --hidden 500, 431,080 parameters, 2,293,000 multiply-adds per image (trained from --init theano-conv)",
    );
    const valid = lines[2]!.match(/^validation error (\d+\.\d{6}) % \((\d+) of 200 images\)$/);
    const test = lines[3]!.match(/^test error (\d+\.\d{6}) % \((\d+) of 200 images\)$/);
    expect(Number(valid![1])).toBe(summary.best_validation_error);
    expect(Number(test![1])).toBe(summary.test_error);
    expect(lines[5]).toMatch(/^confusion matrix of the test set \(200 images; rows: true digit, columns: predicted digit\):$/);
    const rows = lines.slice(7, 17).map((l) => l.trim().split(/\s+/).slice(1, 11).map(Number));
    expect(rows).toHaveLength(10);
    expect(rows.flat().reduce((a, b) => a + b, 0)).toBe(200);
    const wrong = rows.reduce((a, row, i) => a + row.reduce((x, y) => x + y, 0) - row[i]!, 0);
    expect(wrong).toBe(Number(test![2]));
  });

  it("accepts a run directory for its best.safetensors", async () => {
    const r = await cli(["evaluate", dir("full"), "--limit-valid", "20", "--limit-test", "20"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(join(dir("full"), "best.safetensors"));
  });

  it("refuses what is not a checkpoint", async () => {
    const r = await cli(["evaluate", join(dir("full"), "config.json"), "--limit-valid", "20", "--limit-test", "20"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^lenet-cli: cannot load .*config\.json: /);
    const missing = await cli(["evaluate", dir("missing.safetensors")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`lenet-cli: ${dir("missing.safetensors")}: no such checkpoint file or run directory`);
    // a relative path is shown with where it led
    const relative = await cli(["evaluate", "runs/missing"], { cwd: tmp.dir });
    expect(relative.stderr.trim()).toBe(`lenet-cli: runs/missing (${join(tmp.dir, "runs", "missing")}): no such checkpoint file or run directory`);
  });

  it("names a damaged checkpoint once, with what is wrong", async () => {
    const whole = await readFile(join(dir("full"), "best.safetensors"));
    await writeFile(dir("truncated.safetensors"), whole.subarray(0, whole.length - 100));
    const r = await cli(["evaluate", dir("truncated.safetensors"), "--limit-valid", "20", "--limit-test", "20"]);
    expect(r.code).toBe(1);
    const line = r.stderr.trim();
    const file = dir("truncated.safetensors");
    expect(line.startsWith(`lenet-cli: cannot load ${file}: `), line).toBe(true);
    expect(line.slice(`lenet-cli: cannot load ${file}: `.length)).not.toContain(file);
  });
});

describe("predict", () => {
  it("prints a class and ten probabilities for each image", async () => {
    // A dark "1" on a light, coloured background, larger than MNIST's 28x28.
    const w = 60;
    const h = 90;
    const data = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const ink = x >= 26 && x < 34 && y >= 10 && y < 80;
        data.set(ink ? [20, 20, 60, 255] : [250, 240, 200, 255], (y * w + x) * 4);
      }
    }
    await import("node:fs/promises").then((fs) => fs.writeFile(dir("one.png"), encodePng({ width: w, height: h, data })));
    const r = await cli(["predict", dir("full"), "one.png", "one.png"], { cwd: tmp.dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^one\.png: \d \(probability \d\.\d{4}\)$/);
    const probs = lines[1]!
      .trim()
      .split(/\s{2}/)
      .map((p) => Number(p.split(": ")[1]));
    expect(probs).toHaveLength(10);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
    expect(Math.max(...probs)).toBe(Number(lines[0]!.match(/probability (\S+)\)/)![1]));
    expect(lines.slice(2)).toEqual(lines.slice(0, 2));

    // The same picture as a JPEG (baseline, quality 95): decoded, prepared the same way, and
    // classified alike; the compression moves the probabilities only a little.
    await writeFile(dir("one.jpg"), jpeg.encode({ width: w, height: h, data }, 95).data);
    const rj = await cli(["predict", dir("full"), "one.jpg", "one.png"], { cwd: tmp.dir });
    expect(rj.stderr).toBe("");
    expect(rj.code).toBe(0);
    const jl = rj.stdout.trimEnd().split("\n");
    expect(jl).toHaveLength(4);
    expect(jl[0]).toMatch(/^one\.jpg: \d \(probability \d\.\d{4}\)$/);
    expect(jl[0]!.split(" (")[0]!.slice(-1)).toBe(lines[0]!.split(" (")[0]!.slice(-1));
    const jpegProbs = jl[1]!
      .trim()
      .split(/\s{2}/)
      .map((p) => Number(p.split(": ")[1]));
    for (const [k, p] of jpegProbs.entries()) expect(Math.abs(p - probs[k]!), `class ${k}`).toBeLessThan(0.05);
    expect(jl.slice(2)).toEqual(lines.slice(0, 2));
  });

  it("refuses an image it cannot read or that holds no digit", async () => {
    const blank = new Uint8Array(30 * 30 * 4).fill(255);
    await import("node:fs/promises").then((fs) => fs.writeFile(dir("blank.png"), encodePng({ width: 30, height: 30, data: blank })));
    const r = await cli(["predict", dir("full"), "blank.png"], { cwd: tmp.dir });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("lenet-cli: blank.png: no digit found (the image is blank)");
    const missing = await cli(["predict", dir("full"), "nope.jpg"], { cwd: tmp.dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`lenet-cli: nope.jpg (${dir("nope.jpg")}): cannot read the file`);
  });

  it("classifies the good images of a list that has bad ones, reporting each bad one in its place, and exits 1", async () => {
    const alone = await cli(["predict", dir("full"), "one.png"], { cwd: tmp.dir });
    const mixed = await cli(["predict", dir("full"), "nope.jpg", "one.png", "blank.png", "one.png"], { cwd: tmp.dir });
    expect(mixed.code).toBe(1);
    expect(mixed.stderr.trim().split("\n")).toEqual([
      `lenet-cli: nope.jpg (${dir("nope.jpg")}): cannot read the file`,
      "lenet-cli: blank.png: no digit found (the image is blank)",
    ]);
    // both good images, classified as when alone
    expect(mixed.stdout).toBe(alone.stdout + alone.stdout);
  });
});
