import { LENET5_INITS, type LeNet5Init } from "@tessera/nn";
import { BACKEND_NAMES, type BackendName, PRESET_NAMES, type PresetName } from "../config/settings.js";

/** The values the flags can carry, by their camel-case key. */
export interface FlagValues {
  backend: BackendName;
  batchSize: number;
  lr: number;
  epochs: number;
  patience: number;
  seed: number;
  limitTrain: number;
  limitValid: number;
  limitTest: number;
  data: string;
  out: string;
  preset: PresetName;
  resume: string;
  init: LeNet5Init;
  kernels: [number, number];
  filterSize: number;
  poolSize: number;
  hidden: number;
}

export type FlagKey = keyof FlagValues;
export type CommandName = "train" | "evaluate" | "predict" | "demo" | "info";

/** How a flag's value is read and checked. */
export type FlagKind =
  | { type: "int"; min: number; max?: number }
  | { type: "number"; positive: true }
  | { type: "path" }
  | { type: "choice"; choices: readonly string[] }
  | { type: "int-pair"; min: number; max: number };

/** One flag: its spelling, what it carries, its help line and the commands that take it. */
export interface FlagSpec {
  key: FlagKey;
  name: string;
  placeholder: string;
  kind: FlagKind;
  help: string;
  commands: readonly CommandName[];
}

const TRAIN: readonly CommandName[] = ["train"];

/** Every flag, in the order --help lists them. */
export const FLAGS: readonly FlagSpec[] = [
  { key: "preset", name: "--preset", placeholder: "NAME", kind: { type: "choice", choices: PRESET_NAMES }, help: "defaults to start from", commands: TRAIN },
  {
    key: "backend",
    name: "--backend",
    placeholder: "NAME",
    kind: { type: "choice", choices: BACKEND_NAMES },
    help: "where to compute",
    commands: ["train", "evaluate", "predict", "demo"],
  },
  {
    key: "batchSize",
    name: "--batch-size",
    placeholder: "N",
    kind: { type: "int", min: 1, max: 100_000 },
    help: "training images per minibatch (evaluate: images per forward pass)",
    commands: ["train", "evaluate"],
  },
  { key: "lr", name: "--lr", placeholder: "X", kind: { type: "number", positive: true }, help: "SGD learning rate", commands: TRAIN },
  {
    key: "epochs",
    name: "--epochs",
    placeholder: "N",
    kind: { type: "int", min: 1, max: 1_000_000 },
    help: "at most N passes over the training images",
    commands: TRAIN,
  },
  {
    key: "patience",
    name: "--patience",
    placeholder: "N",
    kind: { type: "int", min: 1, max: 1e12 },
    help: "initial early-stopping patience, in iterations",
    commands: TRAIN,
  },
  {
    key: "seed",
    name: "--seed",
    placeholder: "N",
    kind: { type: "int", min: 0, max: 0xffffffff },
    help: "seed of the weight initialisation (numpy RandomState)",
    commands: TRAIN,
  },
  // The network: the chapter's "Choosing Hyperparameters" and its start.
  {
    key: "kernels",
    name: "--kernels",
    placeholder: "K1,K2",
    kind: { type: "int-pair", min: 1, max: 10_000 },
    help: "filters of the two convolutional layers",
    commands: TRAIN,
  },
  {
    key: "filterSize",
    name: "--filter-size",
    placeholder: "N",
    kind: { type: "int", min: 1, max: 28 },
    help: "side of the square convolution filters (NxN)",
    commands: TRAIN,
  },
  {
    key: "poolSize",
    name: "--pool-size",
    placeholder: "N",
    kind: { type: "int", min: 1, max: 28 },
    help: "side of the square max-pooling windows (NxN, stride N; a partial window is dropped)",
    commands: TRAIN,
  },
  { key: "hidden", name: "--hidden", placeholder: "N", kind: { type: "int", min: 1, max: 100_000 }, help: "units of the tanh hidden layer", commands: TRAIN },
  {
    key: "init",
    name: "--init",
    placeholder: "NAME",
    kind: { type: "choice", choices: LENET5_INITS },
    help: "how the drawn conv filters become weights (see Start, below)",
    commands: TRAIN,
  },
  {
    key: "limitTrain",
    name: "--limit-train",
    placeholder: "N",
    kind: { type: "int", min: 1, max: 1e9 },
    help: "train on the first N training images only",
    commands: TRAIN,
  },
  {
    key: "limitValid",
    name: "--limit-valid",
    placeholder: "N",
    kind: { type: "int", min: 1, max: 1e9 },
    help: "measure validation error on the first N validation images only",
    commands: ["train", "evaluate"],
  },
  {
    key: "limitTest",
    name: "--limit-test",
    placeholder: "N",
    kind: { type: "int", min: 1, max: 1e9 },
    help: "measure test error on the first N test images only",
    commands: ["train", "evaluate"],
  },
  { key: "data", name: "--data", placeholder: "DIR", kind: { type: "path" }, help: "MNIST-format IDX files (plain or .gz)", commands: ["train", "evaluate"] },
  { key: "out", name: "--out", placeholder: "DIR", kind: { type: "path" }, help: "where results go", commands: ["train", "demo"] },
  { key: "resume", name: "--resume", placeholder: "DIR", kind: { type: "path" }, help: "continue the interrupted run in DIR", commands: TRAIN },
];

export const FLAG_BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAGS.map((f) => [f.name, f]));
