/**
 * A training run in the worker: LeNet-5 with the preset's SGD and the tutorial's early stopping,
 * in minibatches taken in order (a last partial one is not trained, as the tutorial's
 * n_train_batches = n // batch_size), one captured step each, as lenet-cli trains. Between steps it lets the page's messages
 * in (stop, predict, save), and it keeps the weights of the best validation, which it restores
 * at the end, so the test error shown belongs to the model the page then uses and saves.
 */
import type { ImageSplit, MnistSplits } from "@tessera/datasets";
import { batches } from "@tessera/datasets";
import { type CapturedTrainingStep, captureTrainingStep, decodeCheckpoint, EarlyStopping, encodeCheckpoint, LeNet5, SGD } from "@tessera/nn";
import * as T from "@tessera/tensor";
import type { FromWorker } from "../protocol.js";
import type { WebSettings } from "../settings.js";
import { countErrors } from "./evaluate.js";
import { yieldToEvents } from "./yield.js";

/** Work between two looks at the page's messages (keeps a stop or a prediction prompt). */
const YIELD_MS = 25;
/** Progress messages at most this often. */
const PROGRESS_MS = 100;
/** The first layer's filters at most this often. */
const FILTERS_MS = 1000;

/** The first `n` images of a split (all when n is null). */
function firstN(split: ImageSplit, n: number | null): ImageSplit {
  if (n === null) return split;
  if (n > split.count) throw new Error(`the ${split.name} split has only ${split.count} images, ${n} were asked for`);
  return split.slice(0, n);
}

/** One run; `post` sends a message to the page. */
export class TrainingSession {
  readonly model: LeNet5;
  private readonly optimizer: SGD;
  /** One SGD step, captured: recorded on its first calls, then replayed (`captureTrainingStep`). */
  private readonly trainStep: CapturedTrainingStep;
  private readonly train: ImageSplit;
  private readonly valid: ImageSplit;
  private readonly test: ImageSplit;
  private stopped = false;
  private resume: (() => void) | undefined;
  private abandoned = false;
  private best: Uint8Array | undefined;
  private lastFilters = 0;

  constructor(
    readonly settings: WebSettings,
    data: MnistSplits,
    private readonly post: (message: FromWorker) => void,
    /** Read the loss every this many steps (a read waits for a GPU). */
    private readonly lossEvery: number,
  ) {
    this.train = firstN(data.train, settings.limitTrain);
    this.valid = firstN(data.valid, settings.limitValid);
    this.test = firstN(data.test, settings.limitTest);
    const { init, kernels, filterSize, poolSize, hidden, seed } = settings;
    const model = new LeNet5({ init, kernels, filterSize, poolSize, hidden, seed });
    const optimizer = new SGD(model.parameters(), { lr: settings.lr });
    this.model = model;
    this.optimizer = optimizer;
    this.trainStep = captureTrainingStep(model, optimizer);
  }

  /** Pauses after the current step. */
  stop(): void {
    this.stopped = true;
  }

  /** Goes on after a stop. */
  continue(): void {
    this.stopped = false;
    this.resume?.();
    this.resume = undefined;
  }

  /** Ends the run at its next step (a checkpoint was loaded over it). */
  abandon(): void {
    this.abandoned = true;
    this.continue();
  }

  /** Whether the run is paused by a stop. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** The test error of the model now, on the run's test images. */
  async testError(): Promise<{ wrong: number; count: number }> {
    return countErrors(this.model, this.test, this.settings.evalBatchSize);
  }

  /** Loads a checkpoint's bytes into the model (names and shapes checked). */
  load(bytes: Uint8Array, name: string): void {
    decodeCheckpoint(bytes, this.model, { source: name });
  }

  /** Sends the first layer's filters to the page. */
  async postFilters(): Promise<void> {
    this.lastFilters = performance.now();
    const w = this.model.conv1.weight;
    this.post({ type: "filters", weights: (await w.data()) as Float32Array, shape: [...w.shape] });
  }

  /** Trains to the end of the preset's epochs or of its patience; returns false when abandoned. */
  async run(): Promise<boolean> {
    const { settings, model } = this;
    const trainBatches = batches(this.train, { batchSize: settings.batchSize, dropLast: true });
    const nBatches = trainBatches.length;
    const early = new EarlyStopping({
      nTrainBatches: nBatches,
      patience: settings.patience,
      patienceIncrease: settings.patienceIncrease,
      improvementThreshold: settings.improvementThreshold,
    });
    const totalSteps = nBatches * settings.epochs;
    let step = 0;
    let trainedImages = 0;
    let trainMs = 0;
    let lastLoss = Number.NaN;
    let lastProgress = 0;
    let lastYield = performance.now();
    this.post({ type: "status", state: "training", text: "training" });
    await this.postFilters();
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      let minibatch = 0;
      for (const { x, y } of trainBatches) {
        const start = performance.now();
        const loss = this.trainStep(x, y);
        T.dispose([x, y]);
        step++;
        if (step % this.lossEvery === 0 || minibatch === nBatches - 1) lastLoss = (await loss.data())[0]!;
        loss.dispose();
        trainMs += performance.now() - start;
        trainedImages += settings.batchSize;
        const iter = early.iteration(epoch, minibatch);
        minibatch++;
        const now = performance.now();
        if (now - lastProgress >= PROGRESS_MS || minibatch === nBatches) {
          lastProgress = now;
          this.post({ type: "progress", step, epoch, steps: totalSteps, loss: lastLoss, imagesPerSecond: (1000 * trainedImages) / trainMs });
        }
        if (early.isValidationIteration(iter)) {
          this.post({ type: "status", state: "evaluating", text: `validating after epoch ${epoch}` });
          const { wrong, count } = await countErrors(model, this.valid, settings.evalBatchSize);
          const error = wrong / count;
          this.post({ type: "validation", step, epoch, error });
          if (early.observeValidation(iter, error).improved) {
            const test = await this.testError();
            early.recordTestError(test.wrong / test.count);
            this.best = await encodeCheckpoint(model, { metadata: { epoch, iteration: iter, validationError: error } });
          }
          await this.postFilters();
          this.post({ type: "status", state: "training", text: "training" });
        } else if (now - this.lastFilters >= FILTERS_MS) {
          await this.postFilters();
        }
        if (now - lastYield >= YIELD_MS || this.stopped) {
          await yieldToEvents();
          lastYield = performance.now();
        }
        if (this.stopped) {
          this.post({ type: "status", state: "stopped", text: `stopped at step ${step}` });
          await new Promise<void>((resolve) => {
            this.resume = resolve;
          });
          if (!this.abandoned) this.post({ type: "status", state: "training", text: "training" });
        }
        if (this.abandoned) return false;
        if (early.shouldStop(iter)) break;
      }
      if (early.shouldStop(early.iteration(epoch, nBatches - 1))) break;
    }
    // the model of the best validation is the one the test error belongs to
    if (this.best) decodeCheckpoint(this.best, model);
    await this.postFilters();
    const error = early.testError;
    if (error !== null) {
      const count = this.test.count;
      this.post({ type: "test", error, wrong: Math.round(error * count), count, source: "training" });
    }
    return true;
  }

  /** Frees the model, the optimizer's state and the captured step. */
  dispose(): void {
    this.trainStep.dispose();
    this.optimizer.zeroGrad();
    this.model.dispose();
  }
}
