/**
 * `@tessera/datasets`: MNIST-format image sets (IDX files, plain or gzip) and minibatch
 * iterators that yield tensors on the active backend. This is the Node entry: the browser
 * entry (browser.ts) plus the functions that read and write files.
 */
export * from "./browser.js";
export { decodeIdx, readIdx, writeIdx } from "./idx.js";
export { type LoadMnistOptions, type Mnist, type MnistFiles, defaultMnistDir, findMnistFiles, loadMnist } from "./mnist.js";
