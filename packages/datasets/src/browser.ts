/**
 * `@tessera/datasets` for browsers (the `browser` export condition): everything but the Node
 * file functions (`loadMnist`, `readIdx`, `writeIdx`, `decodeIdx`, `findMnistFiles`,
 * `defaultMnistDir`), with no Node built-ins. MNIST comes from URLs or bytes
 * (`loadMnistFromUrls`, `mnistFromBytes`; gzip through `DecompressionStream`).
 */
export { DatasetError } from "./errors.js";
export {
  type IdxArray,
  type IdxData,
  type IdxDType,
  type IdxDecoderOptions,
  type IdxExpectation,
  type IdxHeader,
  type IdxInput,
  IDX_TYPE_CODES,
  IdxDecoder,
  encodeIdx,
  idxMagic,
  isGzip,
} from "./idx-format.js";
export { type MnistSplits, ImageSplit, bytesToUnitFloat } from "./split.js";
export {
  type FetchIdxOptions,
  type FetchLike,
  type MnistBytes,
  type MnistFromOptions,
  type MnistUrls,
  decodeIdxAsync,
  fetchIdx,
  loadMnistFromUrls,
  mnistFromBytes,
} from "./fetch.js";
export { type GreyImage, type Rgba, centreOfMass, crop, inkBounds, inkOf, resize, toGrey, toMnistDigit } from "./digit-image.js";
export { type Batch, type BatchOptions, Batches, batches, splitTensors } from "./batches.js";
