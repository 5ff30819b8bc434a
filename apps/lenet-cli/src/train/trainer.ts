import { join } from "node:path";
import "@tessera/autograd";
import { type Batches, batches } from "@tessera/datasets";
import { type CapturedTrainingStep, EarlyStopping, LeNet5, SGD, captureTrainingStep, loadCheckpoint, saveCheckpoint, writeFileAtomic } from "@tessera/nn";
import type * as T from "@tessera/tensor";
import { RandomState } from "@tessera/tensor";
import { CliError, oneLine } from "../cli/errors.js";
import type { TrainSettings } from "../config/settings.js";
import type { RunData } from "../data/load.js";
import { type NetworkOptions, networkOf } from "../model/network.js";
import { learningCurvesSvg } from "../report/charts.js";
import { filterGridOf } from "../report/filters-png.js";
import { networkCost } from "../report/layer-table.js";
import { encodePng } from "../images/raster.js";
import { type MetricsRow, metricsCsv, percent } from "../report/metrics.js";
import type { ProgressInfo, Reporter } from "../report/progress.js";
import { testLine, validationLine } from "../report/tutorial-lines.js";
import { errorRate } from "./evaluate.js";
import { RUN_STATE_FORMAT, type RunState, type StopReason, asRunState } from "./run-state.js";

/** File names of a run directory. */
export const RUN_FILES = {
  config: "config.json",
  metrics: "metrics.csv",
  summary: "summary.json",
  best: "best.safetensors",
  last: "last.safetensors",
  curves: "curves.svg",
  filters: "filters.png",
} as const;

/** What summary.json holds (errors in percent, as the tutorial reports them). */
export interface RunSummary {
  status: "running" | "finished" | "interrupted" | "diverged";
  stop_reason: StopReason | null;
  best_validation_error: number | null;
  best_iteration: number | null;
  best_epoch: number | null;
  test_error: number | null;
  iterations: number;
  /** The epoch of the last minibatch trained (0 before any). */
  last_epoch: number;
  images_trained: number;
  wall_seconds: number;
  train_seconds: number;
  train_images_per_second: number;
  backend: string;
  train_images: number;
  validation_images: number;
  test_images: number;
  /** How the drawn conv filters became the starting weights (see LeNet5Init). */
  init: NetworkOptions["init"];
  /** The network's shape and size. */
  network: { kernels: [number, number]; filter_size: number; pool_size: number; hidden: number; parameters: number; multiply_adds_per_image: number };
  message?: string;
}

/** How a call to `Trainer.run` ended. */
export interface TrainOutcome {
  status: "finished" | "interrupted" | "diverged";
  stopReason: StopReason | null;
  summary: RunSummary;
  /** The run's state as last saved. */
  state: RunState;
  /** For interrupted and diverged runs: what happened, in one line. */
  message?: string;
}

/** What a trainer needs. */
export interface TrainerOptions {
  settings: TrainSettings;
  data: RunData;
  /** The run directory (created by the caller). */
  outDir: string;
  /** Name of the active backend, for the summary. */
  backendName: string;
  /** Where the tutorial's lines and the progress go (nothing printed when omitted). */
  reporter?: Reporter;
  /** Aborting it stops training after the current step; last.safetensors is saved first. */
  signal?: AbortSignal;
  /** Continue from this last.safetensors (weights, optimizer state and RunState metadata). */
  resumeFrom?: string;
  /** Clock in milliseconds (performance.now). */
  now?: () => number;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A fraction as a summary.json percentage (rounded like the printed `%f`). */
const pct = (f: number | null) => (f === null ? null : Number(percent(f)));

/**
 * Trains LeNet-5 with plain minibatch SGD and the tutorial's early stopping, in-order minibatches,
 * writing metrics, charts and checkpoints to the run directory at each validation.
 */
export class Trainer {
  readonly settings: TrainSettings;
  readonly model: LeNet5;
  readonly optimizer: SGD;
  readonly nTrainBatches: number;
  readonly earlyStopping: EarlyStopping;
  private readonly data: RunData;
  private readonly outDir: string;
  private readonly trainBatches: Batches;
  private readonly options: TrainerOptions;
  private readonly now: () => number;
  private state: RunState;
  /** The progress last given to the reporter (null before the first step of this session). */
  private progressShown: ProgressInfo | null = null;
  /** One SGD step, captured: recorded on its first calls, then replayed (`captureTrainingStep`). */
  private readonly trainStep: CapturedTrainingStep;

  private constructor(options: TrainerOptions, model: LeNet5, optimizer: SGD, state: RunState) {
    this.options = options;
    this.settings = options.settings;
    this.data = options.data;
    this.outDir = options.outDir;
    this.model = model;
    this.optimizer = optimizer;
    this.now = options.now ?? (() => performance.now());
    // The tutorial's n_train_batches = n_train // batch_size: a last partial batch is never trained.
    this.trainBatches = batches(options.data.train, { batchSize: this.settings.batchSize, dropLast: true });
    this.nTrainBatches = this.trainBatches.length;
    this.state = state;
    this.trainStep = captureTrainingStep(model, optimizer);
    this.earlyStopping = new EarlyStopping(
      {
        nTrainBatches: this.nTrainBatches,
        patience: this.settings.patience,
        patienceIncrease: this.settings.patienceIncrease,
        improvementThreshold: this.settings.improvementThreshold,
      },
      state.earlyStopping,
    );
  }

  /** A trainer for a fresh run, or (with `resumeFrom`) for the continuation of a saved one. */
  static async create(options: TrainerOptions): Promise<Trainer> {
    const s = options.settings;
    const n = Math.floor(options.data.train.count / s.batchSize);
    if (n < 1)
      throw new CliError(`${options.data.train.count} training images make no full minibatch of ${s.batchSize}: lower --batch-size or raise --limit-train`);
    // One generator draws every initial weight, layer by layer, as the tutorial's RandomState(23455) does.
    const rng = new RandomState(s.seed);
    const model = new LeNet5({ ...networkOf(s), seed: rng });
    const optimizer = new SGD(model.parameters(), { lr: s.lr });
    let state: RunState;
    if (options.resumeFrom) {
      let metadata: Record<string, unknown>;
      try {
        ({ metadata } = await loadCheckpoint(options.resumeFrom, model, { optimizer }));
        state = asRunState(metadata.run);
      } catch (err) {
        model.dispose();
        throw new CliError(`cannot resume from ${options.resumeFrom}: ${oneLine(err)}`);
      }
      // The checkpoint restores the saved learning rate; an explicit --lr on resume wins.
      optimizer.lr = s.lr;
      state = { ...state, settings: s };
    } else {
      state = {
        format: RUN_STATE_FORMAT,
        epoch: 1,
        minibatch: 0,
        stopReason: null,
        earlyStopping: { patience: s.patience, bestValidationError: null, bestIter: -1, testError: null },
        best: null,
        history: [],
        interval: { lossSum: 0, steps: 0, images: 0, trainSeconds: 0 },
        totals: { steps: 0, images: 0, trainSeconds: 0, elapsedSeconds: 0 },
        rng: rng.getState(),
        settings: s,
      };
    }
    return new Trainer(options, model, optimizer, state);
  }

  private get reporter(): Reporter | undefined {
    return this.options.reporter;
  }

  private path(name: string): string {
    return join(this.outDir, name);
  }

  /**
   * Records one SGD step on minibatch `index` and starts reading its loss, which the returned
   * promise resolves to. The loop reads it one step late (after recording the next step), so the
   * device is never idle waiting for the host; a non-finite loss therefore stops training after
   * the update it caused (the weights saved at the last validation stay as they were).
   */
  private step(index: number): Promise<number> {
    const { x, y } = this.trainBatches.batch(index);
    let loss: T.Tensor;
    try {
      loss = this.trainStep(x, y);
    } finally {
      x.dispose();
      y.dispose();
    }
    return loss.data().then(
      (v) => {
        loss.dispose();
        return v[0]!;
      },
      (err: unknown) => {
        loss.dispose();
        throw err;
      },
    );
  }

  /** Runs until early stopping, the last epoch, an abort or a diverging loss. */
  async run(): Promise<TrainOutcome> {
    const s = this.settings;
    const es = this.earlyStopping;
    const n = this.nTrainBatches;
    const sessionStart = this.now();
    const baseElapsed = this.state.totals.elapsedSeconds;
    const elapsed = () => baseElapsed + (this.now() - sessionStart) / 1000;
    let sessionImages = 0;
    let sessionTrainSeconds = 0;
    let sessionSteps = 0;
    let epoch = this.state.epoch;
    let mb = this.state.minibatch;
    if (mb >= n) {
      epoch++;
      mb = 0;
    }
    let stopReason: StopReason | null = null;
    // The step whose loss is still being read, and when the last one finished.
    let pending: { loss: Promise<number>; epoch: number; mb: number; iter: number; t0: number } | null = null;
    let lastDone = sessionStart;
    /** Accounts for the pending step once its loss is known; an outcome when training must stop. */
    const settle = async (): Promise<TrainOutcome | null> => {
      const p = pending;
      if (!p) return null;
      pending = null;
      const loss = await p.loss;
      if (!Number.isFinite(loss)) return this.diverge(p.epoch, p.mb, p.iter, loss, elapsed());
      const done = this.now();
      // Steps overlap (the next is recorded while this one computes): count each from the later
      // of its start and the previous step's end.
      const seconds = (done - Math.max(p.t0, lastDone)) / 1000;
      lastDone = done;
      const images = s.batchSize;
      const iv = this.state.interval;
      iv.lossSum += loss;
      iv.steps++;
      iv.images += images;
      iv.trainSeconds += seconds;
      const tot = this.state.totals;
      tot.steps++;
      tot.images += images;
      tot.trainSeconds += seconds;
      sessionImages += images;
      sessionTrainSeconds += seconds;
      sessionSteps++;
      if (this.reporter) {
        const finalIter = Math.min(s.epochs * n - 1, es.patience);
        const perStep = (this.now() - sessionStart) / 1000 / sessionSteps;
        this.progressShown = {
          epoch: p.epoch,
          epochs: s.epochs,
          minibatch: p.mb,
          nTrainBatches: n,
          imagesPerSecond: sessionTrainSeconds > 0 ? sessionImages / sessionTrainSeconds : 0,
          loss: iv.steps > 0 ? iv.lossSum / iv.steps : null,
          bestValidationError: es.bestValidationError,
          etaSeconds: Math.max(0, finalIter - p.iter) * perStep,
        };
        this.reporter.progress(this.progressShown);
      }
      return null;
    };
    loop: while (epoch <= s.epochs) {
      for (; mb < n; mb++) {
        const iter = es.iteration(epoch, mb);
        // The tutorial tests `patience <= iter` after each step; testing the previous step's
        // iteration here is the same rule, and also holds right after a resume.
        if (es.shouldStop(iter - 1)) {
          stopReason = "patience";
          break loop;
        }
        if (this.options.signal?.aborted) {
          const stopped = await settle();
          return stopped ?? this.interrupt(epoch, mb, elapsed());
        }
        const t0 = this.now();
        const loss = this.step(mb);
        const stopped = await settle();
        if (stopped) {
          await loss.catch(() => {});
          return stopped;
        }
        pending = { loss, epoch, mb, iter, t0 };
        if (es.isValidationIteration(iter)) {
          // Validation sees the weights after this step and no later one.
          const diverged = await settle();
          if (diverged) return diverged;
          await this.validate(epoch, mb, iter, elapsed);
        }
        await yieldToEventLoop();
      }
      epoch++;
      mb = 0;
    }
    const diverged = await settle();
    if (diverged) return diverged;
    // Out of epochs; "patience" when the last step's patience test would also have stopped.
    stopReason ??= es.shouldStop(es.iteration(epoch, mb) - 1) ? "patience" : "epochs";
    this.state.epoch = epoch;
    this.state.minibatch = mb;
    this.state.stopReason = stopReason;
    this.state.totals.elapsedSeconds = elapsed();
    this.reporter?.done();
    await this.saveLast();
    await this.writeFilters();
    const summary = this.summary("finished");
    await this.writeSummary(summary);
    return { status: "finished", stopReason, summary, state: this.state };
  }

  private async validate(epoch: number, mb: number, iter: number, elapsed: () => number): Promise<void> {
    const s = this.settings;
    const es = this.earlyStopping;
    const n = this.nTrainBatches;
    const valid = await errorRate(this.model, this.data.valid, s.evalBatchSize);
    const outcome = es.observeValidation(iter, valid.rate);
    // The bar is redrawn under each line printed here: give it this validation's best, not the
    // one from before it (the next step's update may be seconds away, after the test set).
    if (this.progressShown) {
      this.progressShown = { ...this.progressShown, bestValidationError: es.bestValidationError };
      this.reporter?.progress(this.progressShown);
    }
    this.reporter?.line(validationLine(epoch, mb, n, valid.rate));
    let testError: number | null = null;
    if (outcome.improved) {
      const test = await errorRate(this.model, this.data.test, s.evalBatchSize);
      es.recordTestError(test.rate);
      testError = test.rate;
      this.reporter?.line(testLine(epoch, mb, n, test.rate));
      this.state.best = { epoch, minibatch: mb };
      await saveCheckpoint(this.path(RUN_FILES.best), this.model, {
        metadata: { kind: "best", epoch, minibatch: mb, iteration: iter, validation_error: valid.rate, test_error: test.rate, settings: s },
      });
    }
    const iv = this.state.interval;
    const row: MetricsRow = {
      epoch,
      minibatch: mb,
      iteration: iter,
      trainLoss: iv.steps > 0 ? iv.lossSum / iv.steps : Number.NaN,
      validationError: valid.rate,
      testError,
      elapsedSeconds: elapsed(),
      imagesPerSecond: iv.trainSeconds > 0 ? iv.images / iv.trainSeconds : 0,
    };
    this.state.history.push(row);
    this.state.interval = { lossSum: 0, steps: 0, images: 0, trainSeconds: 0 };
    this.state.epoch = epoch;
    this.state.minibatch = mb + 1;
    this.state.totals.elapsedSeconds = elapsed();
    await this.writeFileAtomic(RUN_FILES.metrics, metricsCsv(this.state.history));
    await this.writeFileAtomic(RUN_FILES.curves, learningCurvesSvg(this.state.history));
    await this.writeFilters();
    await this.saveLast();
    await this.writeSummary(this.summary("running"));
  }

  private async interrupt(epoch: number, mb: number, elapsedSeconds: number): Promise<TrainOutcome> {
    this.reporter?.done();
    this.state.epoch = epoch;
    this.state.minibatch = mb;
    this.state.totals.elapsedSeconds = elapsedSeconds;
    await this.saveLast();
    await this.writeFilters();
    const message = `Interrupted in epoch ${epoch} after ${mb}/${this.nTrainBatches} minibatches (${this.state.totals.steps} iterations): saved ${this.path(RUN_FILES.last)}; continue with --resume ${this.outDir}`;
    const summary = { ...this.summary("interrupted"), message };
    await this.writeSummary(summary);
    return { status: "interrupted", stopReason: null, summary, state: this.state, message };
  }

  private async diverge(epoch: number, mb: number, iter: number, loss: number, elapsedSeconds: number): Promise<TrainOutcome> {
    this.reporter?.done();
    this.state.totals.elapsedSeconds = elapsedSeconds;
    const kept = this.state.best ? `${RUN_FILES.best} (iteration ${this.earlyStopping.bestIter}) is kept` : `no ${RUN_FILES.best} was saved yet`;
    const message =
      `training stopped: the loss became ${loss} at epoch ${epoch}, minibatch ${mb + 1}/${this.nTrainBatches} (iteration ${iter}) ` +
      `with learning rate ${this.settings.lr}; try a lower --lr. ${kept}`;
    // last.safetensors stays as saved at the last validation: the weights are still finite there.
    const summary = { ...this.summary("diverged"), message };
    await this.writeSummary(summary);
    return { status: "diverged", stopReason: null, summary, state: this.state, message };
  }

  private summary(status: RunSummary["status"]): RunSummary {
    const es = this.earlyStopping;
    const tot = this.state.totals;
    return {
      status,
      stop_reason: status === "finished" ? this.state.stopReason : null,
      best_validation_error: pct(es.bestValidationError),
      best_iteration: es.bestIter >= 0 ? es.bestIter : null,
      best_epoch: this.state.best?.epoch ?? null,
      test_error: pct(es.testError),
      iterations: tot.steps,
      last_epoch: this.state.minibatch === 0 ? this.state.epoch - 1 : this.state.epoch,
      images_trained: tot.images,
      wall_seconds: Number(tot.elapsedSeconds.toFixed(3)),
      train_seconds: Number(tot.trainSeconds.toFixed(3)),
      train_images_per_second: tot.trainSeconds > 0 ? Number((tot.images / tot.trainSeconds).toFixed(2)) : 0,
      backend: this.options.backendName,
      train_images: this.nTrainBatches * this.settings.batchSize,
      validation_images: this.data.valid.count,
      test_images: this.data.test.count,
      init: this.settings.init,
      network: this.networkSummary(),
    };
  }

  private networkSummary(): RunSummary["network"] {
    const s = this.settings;
    const cost = networkCost(networkOf(s));
    return {
      kernels: s.kernels,
      filter_size: s.filterSize,
      pool_size: s.poolSize,
      hidden: s.hidden,
      parameters: cost.parameters,
      multiply_adds_per_image: cost.multiplyAdds,
    };
  }

  private async writeFileAtomic(name: string, data: string | Uint8Array): Promise<void> {
    await writeFileAtomic(this.path(name), data);
  }

  private async writeSummary(summary: RunSummary): Promise<void> {
    await this.writeFileAtomic(RUN_FILES.summary, JSON.stringify(summary, null, 2) + "\n");
  }

  private async writeFilters(): Promise<void> {
    await this.writeFileAtomic(RUN_FILES.filters, encodePng(await filterGridOf(this.model.conv1.weight)));
  }

  private async saveLast(): Promise<void> {
    this.state.earlyStopping = this.earlyStopping.snapshot();
    await saveCheckpoint(this.path(RUN_FILES.last), this.model, { optimizer: this.optimizer, metadata: { kind: "last", run: this.state } });
  }

  /** Frees the model's and the optimizer's tensors. */
  dispose(): void {
    this.trainStep.dispose();
    this.optimizer.dispose();
    this.model.dispose();
  }
}
