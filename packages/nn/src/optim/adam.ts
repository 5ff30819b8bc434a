import * as T from "@tessera/tensor";
import type { Tensor } from "@tessera/tensor";
import { Optimizer, type OptimizerOptions, type ParamState } from "./optimizer.js";

/** Options of `Adam`. */
export interface AdamOptions extends OptimizerOptions {
  /** Learning rate (default 0.001). */
  lr?: number;
  /** Decay rates of the running averages of the gradient and of its square (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** L2 penalty, added to the gradient as `weightDecay * param` (default 0). */
  weightDecay?: number;
}

/** Adam (Kingma & Ba) with bias correction; weight decay added to the gradient as in PyTorch's Adam. */
export class Adam extends Optimizer {
  /** Decay rates of the running averages of the gradient and of its square. */
  readonly betas: [number, number];
  /** Added to the denominator for numerical stability. */
  readonly eps: number;
  /** L2 penalty added to the gradient. */
  readonly weightDecay: number;

  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, options.lr ?? 1e-3, options);
    this.betas = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
  }

  protected update(p: ParamState, grad: Tensor): Tensor {
    const [b1, b2] = this.betas;
    const t = this.stepCount;
    return T.tidy(() => {
      const g = this.weightDecay ? T.add(grad, T.mul(p.param, this.weightDecay)) : grad;
      const m0 = p.state.get("exp_avg");
      const v0 = p.state.get("exp_avg_sq");
      const m = m0 ? T.add(T.mul(m0, b1), T.mul(g, 1 - b1)) : T.mul(g, 1 - b1);
      const v = v0 ? T.add(T.mul(v0, b2), T.mul(T.square(g), 1 - b2)) : T.mul(T.square(g), 1 - b2);
      this.setState(p, "exp_avg", m);
      this.setState(p, "exp_avg_sq", v);
      const mHat = T.div(m, 1 - b1 ** t);
      const vHat = T.div(v, 1 - b2 ** t);
      return T.sub(p.param, T.mul(T.div(mHat, T.add(T.sqrt(vHat), this.eps)), this.lr));
    });
  }
}
