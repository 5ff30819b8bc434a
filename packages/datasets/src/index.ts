/**
 * `@tessera/datasets`: MNIST-format image sets (IDX files, plain or gzip) and minibatch
 * iterators that yield tensors on the active backend.
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
  decodeIdx,
  encodeIdx,
  idxMagic,
  isGzip,
  readIdx,
  writeIdx,
} from "./idx.js";
export {
  type LoadMnistOptions,
  type Mnist,
  type MnistFiles,
  ImageSplit,
  bytesToUnitFloat,
  defaultMnistDir,
  findMnistFiles,
  loadMnist,
} from "./mnist.js";
export { type Batch, type BatchOptions, Batches, batches, splitTensors } from "./batches.js";
