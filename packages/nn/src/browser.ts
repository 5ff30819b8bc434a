/**
 * `@tessera/nn` for browsers (the `browser` export condition): everything but the file functions
 * (`saveCheckpoint`, `loadCheckpoint`, `saveSafetensors`, `loadSafetensors`, `writeFileAtomic`),
 * with no Node built-ins. Checkpoints move as bytes: `encodeCheckpoint`, `decodeCheckpoint`.
 */
export { Module, parameter, StateDictError, type ModuleArchitecture } from "./module.js";
export { Conv2d, type Conv2dOptions } from "./layers/conv.js";
export { Linear, Dense, type LinearOptions } from "./layers/linear.js";
export { MaxPool2d, AvgPool2d, type PoolOptions } from "./layers/pooling.js";
export { Tanh, ReLU, Sigmoid, Softmax, LogSoftmax } from "./layers/activations.js";
export { Flatten, Dropout, Sequential } from "./layers/structure.js";
export { crossEntropyLoss, nllLoss, mseLoss, CrossEntropyLoss, NLLLoss, MSELoss, type Reduction } from "./losses.js";
/** Weight initialisers (uniform, normal, Xavier/Glorot, Kaiming, the LeNet tutorial's). */
export * as init from "./init.js";
export { LeNet5, LENET5_INITS, type LeNet5Init, type LeNet5Options } from "./models/lenet5.js";
export { lenet5Geometry, type LeNet5Geometry, type LeNet5Shape } from "./models/lenet5-geometry.js";
export { LENET5_PRESETS, LENET5_PRESET_NAMES, type LeNet5Preset, type LeNet5PresetName } from "./models/lenet5-presets.js";
export { captureTrainingStep, type CapturedTrainingStep } from "./training/captured-step.js";
export { EarlyStopping, type EarlyStoppingOptions, type EarlyStoppingState, type ValidationOutcome } from "./training/early-stopping.js";
/** Optimizers and learning-rate schedules, as `optim.SGD`, `optim.StepLR`... (PyTorch's layout). */
export * as optim from "./optim/index.js";
export { Optimizer, SGD, Adam, type SGDOptions, type AdamOptions, type OptimizerOptions, type OptimizerState } from "./optim/index.js";
export {
  encodeSafetensors,
  decodeSafetensors,
  CheckpointError,
  type NamedArray,
  type SafetensorsContents,
  type SafetensorsDType,
} from "./checkpoint/safetensors.js";
export { encodeCheckpoint, decodeCheckpoint, type CheckpointMetadata, type LoadedCheckpoint } from "./checkpoint/checkpoint-bytes.js";
