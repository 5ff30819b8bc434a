import * as T from "@tessera/tensor";
import { type Tensor, TesseraError } from "@tessera/tensor";
import { Optimizer, type OptimizerOptions, type ParamState } from "./optimizer.js";

/** Options of `SGD` (PyTorch's semantics). */
export interface SGDOptions extends OptimizerOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor (default 0: plain SGD). */
  momentum?: number;
  /** Dampening of the momentum: the new gradient enters the buffer scaled by `1 - dampening` (default 0). */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and zero dampening; default false). */
  nesterov?: boolean;
  /** L2 penalty, added to the gradient as `weightDecay * param` (default 0). */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay:
 * g += wd·p; buf = μ·buf + (1-dampening)·g (buf = g at the first step); p -= lr·(nesterov ? g + μ·buf : buf).
 */
export class SGD extends Optimizer {
  /** Momentum factor (0: plain SGD). */
  readonly momentum: number;
  /** Dampening of the momentum. */
  readonly dampening: number;
  /** Whether the momentum is Nesterov's. */
  readonly nesterov: boolean;
  /** L2 penalty added to the gradient. */
  readonly weightDecay: number;

  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super(params, options.lr, options);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new TesseraError("SGD", "Nesterov momentum needs momentum > 0 and zero dampening");
    }
  }

  protected update(p: ParamState, grad: Tensor): Tensor {
    return T.tidy(() => {
      let g = this.weightDecay ? T.add(grad, T.mul(p.param, this.weightDecay)) : grad;
      if (this.momentum) {
        const old = p.state.get("momentum");
        const buf = old ? T.add(T.mul(old, this.momentum), T.mul(g, 1 - this.dampening)) : T.clone(g);
        this.setState(p, "momentum", buf);
        g = this.nesterov ? T.add(g, T.mul(buf, this.momentum)) : buf;
      }
      return T.sub(p.param, T.mul(g, this.lr));
    });
  }
}
