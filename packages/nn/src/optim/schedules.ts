import { TesseraError } from "@tessera/tensor";
import type { Optimizer } from "./optimizer.js";

/** A schedule: the factor applied to the base learning rate at a given epoch (or step). */
export type Schedule = (epoch: number) => number;

/** Multiplies the rate by `gamma` every `stepSize` epochs (PyTorch's StepLR). */
export function stepDecay(stepSize: number, gamma = 0.1): Schedule {
  if (!Number.isInteger(stepSize) || stepSize < 1) throw new TesseraError("stepDecay", `stepSize must be a positive integer, got ${stepSize}`);
  return (epoch) => gamma ** Math.floor(epoch / stepSize);
}

/** Multiplies the rate by `gamma` every epoch (PyTorch's ExponentialLR). */
export function exponentialDecay(gamma: number): Schedule {
  return (epoch) => gamma ** epoch;
}

/** The product of several schedules, so pieces compose (e.g. warm-up then decay). */
export function composeSchedules(...schedules: Schedule[]): Schedule {
  return (epoch) => schedules.reduce((f, s) => f * s(epoch), 1);
}

/** Drives an optimizer's learning rate from a schedule: call `step()` once per epoch. */
export class LRScheduler {
  readonly baseLr: number;
  epoch = 0;
  constructor(
    readonly optimizer: Optimizer,
    readonly schedule: Schedule,
  ) {
    this.baseLr = optimizer.lr;
  }
  /** Advances one epoch and sets the optimizer's rate. */
  step(): number {
    this.epoch++;
    this.optimizer.lr = this.baseLr * this.schedule(this.epoch);
    return this.optimizer.lr;
  }
}

/** `LRScheduler` with `stepDecay` (PyTorch's name). */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer, options: { stepSize: number; gamma?: number }) {
    super(optimizer, stepDecay(options.stepSize, options.gamma));
  }
}

/** `LRScheduler` with `exponentialDecay` (PyTorch's name). */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: Optimizer, options: { gamma: number }) {
    super(optimizer, exponentialDecay(options.gamma));
  }
}
