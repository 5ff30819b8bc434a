import { describe, expect, it } from "vitest";
import { learningCurvesSvg, niceTicks } from "../src/report/charts.js";
import { filterGrid } from "../src/report/filters-png.js";
import { type MetricsRow, metricsCsv, percent } from "../src/report/metrics.js";
import { type ProgressInfo, createReporter, formatDuration, progressBarText } from "../src/report/progress.js";
import { reportLines, testLine, validationLine } from "../src/report/tutorial-lines.js";
import { Capture } from "./helpers.js";

const row = (iteration: number, validationError: number, testError: number | null, trainLoss = 0.5): MetricsRow => ({
  epoch: Math.floor(iteration / 100) + 1,
  minibatch: iteration % 100,
  iteration,
  trainLoss,
  validationError,
  testError,
  elapsedSeconds: iteration / 10,
  imagesPerSecond: 38.25,
});

const info: ProgressInfo = {
  epoch: 3,
  epochs: 200,
  minibatch: 44,
  nTrainBatches: 100,
  imagesPerSecond: 38.2,
  loss: 0.1234,
  bestValidationError: 0.0123,
  etaSeconds: 3725,
};

describe("the tutorial's lines", () => {
  it("formats the validation, test and closing lines as convolutional_mlp.py prints them", () => {
    expect(validationLine(3, 99, 100, 0.0123)).toBe("epoch 3, minibatch 100/100, validation error 1.230000 %");
    expect(testLine(3, 99, 100, 0.011)).toBe("     epoch 3, minibatch 100/100, test error of best model 1.100000 %");
    expect(reportLines(0.0091, 16099, 0.0093, 12.34 * 60)).toEqual([
      "Optimization complete.",
      "Best validation score of 0.910000 % obtained at iteration 16099, with test performance 0.930000 %",
      "The code ran for 12.34m",
    ]);
    expect(percent(0.0091)).toBe("0.910000");
  });
});

describe("metrics.csv", () => {
  it("has one row per validation, errors in percent, an empty test error when not measured", () => {
    expect(metricsCsv([row(99, 0.05, 0.06, 0.25), row(199, 0.06, null, 0.125)])).toBe(
      "epoch,iteration,train_loss,validation_error,test_error,elapsed_seconds,images_per_second\n" +
        "1,99,0.250000,5.000000,6.000000,9.900,38.25\n" +
        "2,199,0.125000,6.000000,,19.900,38.25\n",
    );
  });
});

describe("curves.svg", () => {
  it("draws both panels with their series, axes and legend", () => {
    const svg = learningCurvesSvg([row(99, 0.09, 0.08, 0.4), row(199, 0.05, 0.045, 0.2), row(299, 0.06, null, 0.15)]);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
    expect(svg.match(/<path /g)).toHaveLength(3); // validation, test (2 points) and loss lines
    expect(svg.match(/<circle /g)).toHaveLength(2); // test markers
    for (const label of ["error (%)", "cross-entropy", "validation", "test (best model)", "train loss"]) expect(svg).toContain(label);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  });

  it("spans the x axis from the first validation to the last, not from iteration 0", () => {
    const svg = learningCurvesSvg([row(99, 0.09, 0.08, 0.4), row(199, 0.05, 0.045, 0.2), row(299, 0.06, null, 0.15)]);
    // the plot area's left and right edges
    const frame = svg.match(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/)!;
    const [left, right] = [Number(frame[1]), Number(frame[1]) + Number(frame[2])];
    const validation = svg.match(/<path d="M([\d.]+),[\d.]+ L[\d.]+,[\d.]+ L([\d.]+),/)!;
    expect([Number(validation[1]), Number(validation[2])]).toEqual([left, right]);
    // ticks inside the span only: 100, 150, ... (none at 0)
    const ticks = [...svg.matchAll(/text-anchor="middle" font-size="11">(\d+)</g)].map((m) => Number(m[1]));
    expect(Math.min(...ticks)).toBeGreaterThanOrEqual(99);
    expect(Math.max(...ticks)).toBeLessThanOrEqual(299);
  });

  it("copes with no rows and with one row", () => {
    expect(learningCurvesSvg([])).toContain("no validation yet");
    expect(learningCurvesSvg([row(99, 0.1, 0.1)]).match(/<circle /g)!.length).toBeGreaterThanOrEqual(3);
  });

  it("picks round ticks", () => {
    expect(niceTicks(0, 10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0, 16099, 8)).toEqual([0, 2500, 5000, 7500, 10000, 12500, 15000]);
    expect(niceTicks(0, 19, 8, true)).toEqual([0, 5, 10, 15]);
    expect(niceTicks(0, 3, 8, true)).toEqual([0, 1, 2, 3]);
  });
});

describe("filters.png", () => {
  it("lays 20 filters of 5x5 out as 5 x 4 tiles, mid-grey for zero", () => {
    const w = new Float32Array(20 * 25);
    w[0] = 1; // filter 0, top-left weight: white
    w[25] = -1; // filter 1, top-left weight: black
    const img = filterGrid(w, [20, 1, 5, 5]);
    expect([img.width, img.height]).toEqual([5 * 50 + 6 * 4, 4 * 50 + 5 * 4]);
    const px = (x: number, y: number) => img.data[(y * img.width + x) * 4]!;
    expect(px(4, 4)).toBe(255);
    expect(px(4 + 54, 4)).toBe(0);
    expect(px(4 + 108, 4)).toBe(128); // an all-zero filter
    expect(px(0, 0)).toBe(255); // the gap
  });
});

describe("progress", () => {
  it("formats durations", () => {
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(725)).toBe("12m05s");
    expect(formatDuration(3725)).toBe("1h02m");
  });

  it("redraws one line with a carriage return on a terminal, keeping printed lines above it", () => {
    const out = new Capture(true);
    let t = 0;
    const r = createReporter(out, { now: () => t });
    r.progress(info);
    t += 1000;
    r.progress({ ...info, minibatch: 45 });
    r.line("epoch 3, minibatch 100/100, validation error 1.230000 %");
    r.done();
    const bar1 = progressBarText(info);
    const bar2 = progressBarText({ ...info, minibatch: 45 });
    expect(out.text).toBe(`\r${bar1}\x1b[K\r${bar2}\x1b[K\r\x1b[Kepoch 3, minibatch 100/100, validation error 1.230000 %\n\r${bar2}\x1b[K\r\x1b[K`);
    expect(bar1).toBe("epoch 3/200 [#########-----------] 45/100 | 38.2 img/s | loss 0.1234 | best val 1.23 % | ETA 1h02m");
  });

  it("writes only plain lines, at most one progress line per interval, when not on a terminal", () => {
    const out = new Capture(false);
    let t = 0;
    const r = createReporter(out, { now: () => t, plainIntervalMs: 30_000 });
    r.progress(info);
    t += 10_000;
    r.progress(info);
    t += 25_000;
    r.progress(info);
    r.line("a line");
    r.done();
    expect(out.lines).toEqual(["progress: epoch 3/200, minibatch 45/100, 38.2 images/s, loss 0.123400, best validation error 1.230000 %, ETA 1h02m", "a line"]);
    expect(/[\r\x1b]/.test(out.text)).toBe(false);
  });
});
