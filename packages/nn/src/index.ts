/**
 * @tessera/nn: layers, losses, optimizers, initialisers, LeNet-5 and safetensors checkpoints,
 * shaped like PyTorch's `torch.nn` where users expect it. This is the Node entry: the browser
 * entry (browser.ts) plus checkpoints as files.
 */
export * from "./browser.js";
export { saveSafetensors, loadSafetensors } from "./checkpoint/safetensors-file.js";
export { writeFileAtomic } from "./checkpoint/atomic-write.js";
export { saveCheckpoint, loadCheckpoint } from "./checkpoint/model-io.js";
