/**
 * IDX files and MNIST-format sets from bytes or URLs, with web APIs only (`fetch`,
 * `DecompressionStream`), so the same code runs in browsers, workers and Node 20+.
 */
import { DatasetError } from "./errors.js";
import { type IdxArray, IdxDecoder, type IdxExpectation, isGzip, MAX_DEFLATE_RATIO } from "./idx-format.js";
import { checkValidation, MNIST_IMAGES, MNIST_LABELS, type MnistPair, type MnistSplits, mnistPair, splitMnist } from "./split.js";

/** The `fetch` these loaders call: the global one, or a caller's (tests, custom headers). */
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Decodes an IDX file held in memory, plain or gzip-compressed (detected by content), without
 * Node built-ins: gzip goes through `DecompressionStream` chunk by chunk into the decoder, so
 * only the compressed bytes and the result are held. `name` is used in error messages.
 */
export async function decodeIdxAsync(bytes: Uint8Array, name = "<buffer>", expect: IdxExpectation = {}): Promise<IdxArray> {
  const gz = isGzip(bytes);
  const decoder = new IdxDecoder(
    name,
    expect,
    (h) => {
      if (gz && h.headerBytes + h.dataBytes > bytes.length * MAX_DEFLATE_RATIO + 1024) {
        throw new DatasetError(
          name,
          `truncated: header promises shape [${h.shape.join(",")}] of ${h.dtype} = ${h.dataBytes} bytes of data, more than a ${bytes.length}-byte gzip file can hold`,
        );
      }
    },
    // plain bytes vouch for the header's size; a gzip stream's output grows as data arrives
    gz ? {} : { totalBytes: bytes.length },
  );
  if (!gz) {
    decoder.push(bytes);
    return decoder.finish();
  }
  if (typeof DecompressionStream !== "function") {
    throw new DatasetError(name, "is gzip-compressed, but this runtime has no DecompressionStream to inflate it");
  }
  const inflated = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
  const reader = inflated.getReader();
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw new DatasetError(name, `corrupt or truncated gzip data (${message(err)})`, { cause: err });
      }
      if (chunk.done) break;
      decoder.push(chunk.value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err;
  }
  return decoder.finish();
}

/** Options of {@link fetchIdx}. */
export interface FetchIdxOptions {
  /** The element type / dimension count the file must have. */
  expect?: IdxExpectation;
  /** Cancels the download. */
  signal?: AbortSignal;
  /** The fetch to use (default: the global `fetch`). */
  fetch?: FetchLike;
}

/**
 * Downloads and decodes an IDX file, plain or gzip-compressed (by content, so a server that
 * sends it with `Content-Encoding: gzip` works too). Throws a `DatasetError` naming the URL
 * for a failed request, an HTTP error status, or a bad file.
 */
export async function fetchIdx(url: string, options: FetchIdxOptions = {}): Promise<IdxArray> {
  const get: FetchLike = options.fetch ?? ((u, init) => fetch(u, init));
  let bytes: Uint8Array;
  try {
    const response = await get(url, options.signal ? { signal: options.signal } : {});
    if (!response.ok) throw new DatasetError(url, `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (err) {
    if (err instanceof DatasetError) throw err;
    if ((err as { name?: string } | undefined)?.name === "AbortError") throw err;
    throw new DatasetError(url, `cannot fetch: ${message(err)}`, { cause: err });
  }
  return decodeIdxAsync(bytes, url, options.expect);
}

/** Where the four files of an MNIST-format set are (URLs, relative ones resolved by `fetch`). */
export interface MnistUrls {
  /** URL of the training images (`train-images-idx3-ubyte`, plain or gzip). */
  readonly trainImages: string;
  /** URL of the training labels (`train-labels-idx1-ubyte`, plain or gzip). */
  readonly trainLabels: string;
  /** URL of the test images (`t10k-images-idx3-ubyte`, plain or gzip). */
  readonly testImages: string;
  /** URL of the test labels (`t10k-labels-idx1-ubyte`, plain or gzip). */
  readonly testLabels: string;
}

/** Options of {@link loadMnistFromUrls} and {@link mnistFromBytes}. */
export interface MnistFromOptions {
  /** Images taken from the end of the training file for the `valid` split (default 10,000; 0 allowed). */
  readonly validation?: number;
  /** `"uint8"` (default) keeps bytes and converts per batch; `"float32"` converts every split once. */
  readonly pixels?: "uint8" | "float32";
}

/** The four files of an MNIST-format set as bytes (plain or gzip-compressed IDX). */
export interface MnistBytes {
  /** The training images' IDX file. */
  readonly trainImages: Uint8Array;
  /** The training labels' IDX file. */
  readonly trainLabels: Uint8Array;
  /** The test images' IDX file. */
  readonly testImages: Uint8Array;
  /** The test labels' IDX file. */
  readonly testLabels: Uint8Array;
}

/**
 * An MNIST-format set from the bytes of its four IDX files (plain or gzip), split as `loadMnist`
 * splits it: train = the first N - validation training images, valid = the rest, test = t10k.
 * `names` label the files in error messages.
 */
export async function mnistFromBytes(files: MnistBytes, options: MnistFromOptions = {}, names: Partial<MnistUrls> = {}): Promise<MnistSplits> {
  const validation = checkValidation(options.validation);
  const n = { trainImages: "train-images", trainLabels: "train-labels", testImages: "t10k-images", testLabels: "t10k-labels", ...names };
  const pair = async (images: "trainImages" | "testImages", labels: "trainLabels" | "testLabels"): Promise<MnistPair> => {
    const [img, lab] = await Promise.all([decodeIdxAsync(files[images], n[images], MNIST_IMAGES), decodeIdxAsync(files[labels], n[labels], MNIST_LABELS)]);
    return mnistPair(img, lab, n[images], n[labels]);
  };
  const [train, test] = await Promise.all([pair("trainImages", "trainLabels"), pair("testImages", "testLabels")]);
  return splitMnist(train, test, { validation, pixels: options.pixels });
}

/**
 * Downloads an MNIST-format set (the four IDX files, plain or gzip-compressed) and splits it as
 * `loadMnist` does. The browser's way to MNIST: serve the files with the page (gzip them to a
 * fifth of their size) and pass their URLs. Throws a `DatasetError` naming the URL of any file
 * that cannot be fetched or decoded, and loads nothing partially.
 */
export async function loadMnistFromUrls(urls: MnistUrls, options: MnistFromOptions & Omit<FetchIdxOptions, "expect"> = {}): Promise<MnistSplits> {
  const validation = checkValidation(options.validation);
  const get = (url: string, expect: IdxExpectation) =>
    fetchIdx(url, { expect, ...(options.signal ? { signal: options.signal } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) });
  const pair = async (images: string, labels: string): Promise<MnistPair> => {
    const [img, lab] = await Promise.all([get(images, MNIST_IMAGES), get(labels, MNIST_LABELS)]);
    return mnistPair(img, lab, images, labels);
  };
  const [train, test] = await Promise.all([pair(urls.trainImages, urls.trainLabels), pair(urls.testImages, urls.testLabels)]);
  return splitMnist(train, test, { validation, pixels: options.pixels });
}
