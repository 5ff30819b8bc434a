import { type Tensor, TesseraError, dispose, keep, memory, tidy } from "@tessera/tensor";
import { noGrad } from "@tessera/autograd";
import { GrowthWatch } from "./growth-watch.js";

/** Options every optimizer takes. */
export interface OptimizerOptions {
  /**
   * A training loop that does not free its tensors grows memory step after step. By default
   * (`true`) the optimizer warns once, with `console.warn`, when the live tensors of its
   * parameters' backend have grown at each of 4 checks 50 steps apart; a function receives the
   * message instead (to log or throw it); `false` turns the check off.
   */
  memoryWarning?: boolean | ((message: string) => void);
}

/** A parameter and its per-parameter state (momentum buffers and the like). */
export interface ParamState {
  param: Tensor;
  state: Map<string, Tensor>;
}

/** Serialisable optimizer state: tensors by `<param index>.<name>`, and scalar settings. */
export interface OptimizerState {
  /** Per-parameter state tensors, keyed `<parameter index>.<name>` (for example `0.momentum`). */
  tensors: Map<string, Tensor>;
  /** Scalar settings and counters (for example `lr` and `stepCount`). */
  scalars: Record<string, number>;
}

/** Base of the optimizers: owns the parameter list, the learning rate and per-parameter state. */
export abstract class Optimizer {
  /** The parameters, in the order given, each with its state. */
  readonly params: ParamState[];
  /** Learning rate (schedules change it between steps). */
  lr: number;
  /** Steps taken. */
  stepCount = 0;

  private readonly memoryWarning: ((message: string) => void) | undefined;
  private readonly growth = new GrowthWatch();

  constructor(params: Iterable<Tensor>, lr: number, options: OptimizerOptions = {}) {
    this.params = [...params].map((param) => ({ param, state: new Map() }));
    if (this.params.length === 0) throw new TesseraError(this.constructor.name, "got an empty parameter list");
    if (!(lr > 0)) throw new TesseraError(this.constructor.name, `learning rate must be positive, got ${lr}`);
    this.lr = lr;
    const w = options.memoryWarning ?? true;
    this.memoryWarning = w === true ? (m) => console.warn(m) : w === false ? undefined : w;
  }

  /** Updates one parameter from its gradient; returns the new value. Runs without recording. */
  protected abstract update(p: ParamState, grad: Tensor): Tensor;

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    noGrad(() => {
      for (const p of this.params) {
        const g = p.param.grad;
        if (!g) continue;
        const next = this.update(p, g);
        p.param.assign(next);
        next.dispose();
      }
    });
    this.watchMemory();
  }

  private watchMemory(): void {
    if (!this.memoryWarning) return;
    const backend = this.params[0]!.param.backend;
    const growth = this.growth.check(this.stepCount, () => memory(backend));
    if (growth === undefined) return;
    this.memoryWarning(
      `${this.constructor.name}.step: ${growth}. Tensors made in the training loop are not being freed: run each step inside ` +
        "T.tidy(() => { ... }) and dispose every batch (T.dispose([x, y])), or watch T.memory() yourself. " +
        "Pass { memoryWarning: false } to the optimizer to silence this.",
    );
  }

  /** Clears every parameter's `.grad`. */
  zeroGrad(): void {
    for (const { param } of this.params) {
      param.grad?.dispose();
      param.grad = null;
    }
  }

  /**
   * Replaces a state tensor's value. An existing one of the same shape and dtype is assigned (the
   * same tensor keeps the new value, as parameters do, so a captured step carries it from call to
   * call); otherwise `t` is kept (out of tidy scopes) and the old one freed.
   */
  protected setState(p: ParamState, name: string, t: Tensor): void {
    const old = p.state.get(name);
    if (old && !old.isDisposed && old.dtype === t.dtype && old.shape.length === t.shape.length && old.shape.every((d, i) => d === t.shape[i])) {
      old.assign(t);
      return;
    }
    old?.dispose();
    p.state.set(name, keep(t));
  }

  /** The state to checkpoint. */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    this.params.forEach((p, i) => {
      for (const [k, t] of p.state) tensors.set(`${i}.${k}`, t);
    });
    return { tensors, scalars: { lr: this.lr, stepCount: this.stepCount } };
  }

  /** Restores a checkpointed state (tensors are copied). */
  loadStateDict(s: OptimizerState): void {
    for (const [key, t] of s.tensors) {
      const dot = key.indexOf(".");
      const p = this.params[Number(key.slice(0, dot))];
      if (!p || dot < 0) throw new TesseraError("Optimizer.loadStateDict", `state '${key}' names no parameter (this optimizer has ${this.params.length})`);
      if (t.shape.length !== p.param.shape.length || t.shape.some((d, j) => d !== p.param.shape[j])) {
        throw new TesseraError("Optimizer.loadStateDict", `state '${key}' has shape [${t.shape.join(",")}] but its parameter has [${p.param.shape.join(",")}]`);
      }
      // In a tidy scope: the copy is freed once assigned, or kept as the new state tensor.
      tidy(() => this.setState(p, key.slice(dot + 1), t.clone()));
    }
    if (typeof s.scalars.lr === "number") this.lr = s.scalars.lr;
    if (typeof s.scalars.stepCount === "number") this.stepCount = s.scalars.stepCount;
  }

  /** Frees the optimizer's state tensors (not the parameters). */
  dispose(): void {
    for (const p of this.params) {
      dispose([...p.state.values()]);
      p.state.clear();
    }
  }
}
