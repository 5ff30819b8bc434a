/**
 * Minibatches of an image split as tensors on the active backend.
 *
 * Ownership: every tensor yielded or returned here belongs to the caller, who must dispose it
 * (`t.dispose()`, or create it inside `tidy`). The iterator creates no other tensors, so an
 * epoch whose batches are all disposed leaves `memory().tensors` where it started.
 */
import { RandomState, type Tensor, tensor } from "@tessera/tensor";
import { DatasetError } from "./errors.js";
import type { ImageSplit } from "./split.js";

/** A minibatch: images `x` `[B, 1, H, W]` float32 in [0, 1] and labels `y` `[B]` int32. The caller owns both. */
export interface Batch {
  /** Images, `[B, 1, H, W]` float32 in [0, 1]. */
  readonly x: Tensor;
  /** Labels, `[B]` int32. */
  readonly y: Tensor;
}

/** Options of `batches`. */
export interface BatchOptions {
  /** Images per batch (the tutorial's published runs use 500). */
  readonly batchSize: number;
  /** Shuffle with a seeded generator, a new permutation each epoch (default false: file order, as the tutorial). */
  readonly shuffle?: boolean;
  /** Seed, or a generator to draw from, for shuffling (default: seed 0). */
  readonly seed?: number | RandomState;
  /** Drop the last batch when it is smaller than `batchSize` (default false: keep it). */
  readonly dropLast?: boolean;
}

/** The images `indices` (or the range `start..end-1`) of a split as `[B, 1, H, W]` float32 and `[B]` int32 tensors. */
function makeBatch(split: ImageSplit, start: number, end: number, order: Int32Array | undefined): Batch {
  const b = end - start;
  const shape = [b, 1, split.height, split.width];
  let pixels: Float32Array;
  let labels: Int32Array;
  if (order === undefined) {
    pixels = split.rangeToFloat32(start, end);
    labels = split.labels.slice(start, end);
  } else {
    const idx = order.subarray(start, end);
    pixels = split.gatherFloat32(idx);
    labels = split.gatherLabels(idx);
  }
  const x = tensor(pixels, { shape, dtype: "float32" });
  let y: Tensor;
  try {
    y = tensor(labels, { shape: [b], dtype: "int32" });
  } catch (err) {
    x.dispose();
    throw err;
  }
  return { x, y };
}

/**
 * The minibatches of a split, iterable any number of times with `for` or `for await` (each
 * iteration is one epoch; shuffled epochs each draw a new permutation), with random access
 * through `batch(i)`. The consumer owns every yielded batch and must dispose it (or use `tidy`).
 */
export class Batches implements Iterable<Batch>, AsyncIterable<Batch> {
  /** The split the batches are drawn from. */
  readonly split: ImageSplit;
  /** Images per batch. */
  readonly batchSize: number;
  /** Whether each epoch is shuffled. */
  readonly shuffle: boolean;
  /** Whether a last, smaller batch is dropped. */
  readonly dropLast: boolean;
  private readonly rng: RandomState | undefined;
  private epochs = 0;

  constructor(split: ImageSplit, options: BatchOptions) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new DatasetError(undefined, `batches: batchSize must be a positive integer, got ${batchSize}`);
    }
    this.split = split;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    if (this.shuffle) {
      const seed = options.seed ?? 0;
      this.rng = seed instanceof RandomState ? seed : new RandomState(seed);
    }
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.split.count;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Epochs started so far (iterations begun over this object). */
  get epoch(): number {
    return this.epochs;
  }

  /** Batch `i` of the split in file order (images `i*batchSize` up to `(i+1)*batchSize`), whatever `shuffle` says. */
  batch(i: number): Batch {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new RangeError(`batches: batch index ${i} out of range [0, ${this.length})`);
    }
    const start = i * this.batchSize;
    return makeBatch(this.split, start, Math.min(start + this.batchSize, this.split.count), undefined);
  }

  /** Starts an epoch: the order is fixed (and, when shuffling, a permutation drawn) on the first `next()`. */
  *[Symbol.iterator](): Generator<Batch, void, undefined> {
    this.epochs++;
    const order = this.rng?.permutation(this.split.count);
    const n = this.split.count;
    const batches = this.length;
    for (let i = 0; i < batches; i++) {
      const start = i * this.batchSize;
      yield makeBatch(this.split, start, Math.min(start + this.batchSize, n), order);
    }
  }

  /** Starts an epoch, for `for await`; the same batches as the plain iterator. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch, void, undefined> {
    yield* this[Symbol.iterator]();
  }
}

/** The minibatches of `split` (see `Batches`); the consumer owns and must dispose each batch. */
export function batches(split: ImageSplit, options: BatchOptions): Batches {
  return new Batches(split, options);
}

/** A whole split as tensors: `x` `[N, 1, H, W]` float32 in [0, 1], `y` `[N]` int32. The caller owns both. */
export function splitTensors(split: ImageSplit): Batch {
  return makeBatch(split, 0, split.count, undefined);
}
