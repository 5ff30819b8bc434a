/**
 * Image splits in memory: the bytes and labels of an MNIST-format set, cut into train / valid /
 * test the way the DeepLearningTutorials' `mnist.pkl.gz` cuts MNIST. No Node built-ins.
 */
import { DatasetError } from "./errors.js";
import type { IdxArray, IdxExpectation } from "./idx-format.js";

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

/** What an MNIST-format images file must hold: uint8, 3 dimensions (count, height, width). */
export const MNIST_IMAGES: IdxExpectation = { dtype: "uint8", ndim: 3 };
/** What an MNIST-format labels file must hold: uint8, 1 dimension. */
export const MNIST_LABELS: IdxExpectation = { dtype: "uint8", ndim: 1 };

/** The images and labels of one IDX pair (the training or the test files), checked against each other. */
export interface MnistPair {
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly height: number;
  readonly width: number;
  /** The names (paths or URLs) of the two files, for error messages. */
  readonly imagesName: string;
  readonly labelsName: string;
}

/** An images array and a labels array decoded from IDX, checked to hold as many images as labels. */
export function mnistPair(images: IdxArray, labels: IdxArray, imagesName: string, labelsName: string): MnistPair {
  const [count, height, width] = images.shape as [number, number, number];
  if (labels.shape[0] !== count) {
    throw new DatasetError(labelsName, `holds ${labels.shape[0]} labels but ${imagesName} holds ${count} images; the counts must agree`);
  }
  return { images: images.data as Uint8Array, labels: Int32Array.from(labels.data as Uint8Array), height, width, imagesName, labelsName };
}

/** The three splits of an MNIST-format set. */
export interface MnistSplits {
  /** The first `N - validation` images of the training file (50,000 for MNIST by default). */
  readonly train: ImageSplit;
  /** The last `validation` images of the training file (10,000 by default). */
  readonly valid: ImageSplit;
  /** The `t10k` images (10,000 for MNIST). */
  readonly test: ImageSplit;
}

/** The `validation` option checked (default 10,000). */
export function checkValidation(validation: number | undefined): number {
  const v = validation ?? 10_000;
  if (!Number.isInteger(v) || v < 0) throw new DatasetError(undefined, `loadMnist: validation must be a non-negative integer, got ${v}`);
  return v;
}

/**
 * Cuts a training pair and a test pair into train (the first N - validation training images),
 * valid (the last `validation`) and test; `pixels: "float32"` converts every image once.
 */
export function splitMnist(train: MnistPair, test: MnistPair, options: { validation: number; pixels?: "uint8" | "float32" | undefined }): MnistSplits {
  const { validation } = options;
  if (train.height !== test.height || train.width !== test.width) {
    throw new DatasetError(test.imagesName, `holds ${test.height}x${test.width} images but ${train.imagesName} holds ${train.height}x${train.width}`);
  }
  const n = train.labels.length;
  if (validation > n) {
    throw new DatasetError(train.imagesName, `validation: ${validation} images requested but the training file holds only ${n}`);
  }
  const float = options.pixels === "float32";
  const whole = new ImageSplit("train", train.images, train.labels, train.height, train.width, float ? bytesToUnitFloat(train.images) : undefined);
  const testSplit = new ImageSplit("test", test.images, test.labels, test.height, test.width, float ? bytesToUnitFloat(test.images) : undefined);
  return { train: whole.slice(0, n - validation, "train"), valid: whole.slice(n - validation, n, "valid"), test: testSplit };
}
