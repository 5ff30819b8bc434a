/**
 * The LeNet-5 training workload the benchmark scripts share: nn's LeNet5 with the tutorial's
 * init, plain SGD (lr 0.1) and cross-entropy, stepping through a few cached MNIST batches in order.
 * The step is captured (`T.capture`: recorded twice, then replayed) unless `eager` is asked for.
 */
import "@tessera/autograd";
import { type ImageSplit, batches } from "@tessera/datasets";
import { LeNet5, SGD, crossEntropyLoss } from "@tessera/nn";
import * as T from "@tessera/tensor";

/** A model, its optimizer and `count` cached batches of `batchSize` images on the active backend. */
export interface LeNetTraining {
  /** One training step on cached batch `i` (mod their count); returns the loss, to read or dispose. */
  step(i: number): T.Tensor;
  dispose(): void;
}

export function lenetTraining(train: ImageSplit, batchSize: number, count: number, options: { eager?: boolean } = {}): LeNetTraining {
  const model = new LeNet5();
  const optimizer = new SGD(model.parameters(), { lr: 0.1 });
  const data = batches(train, { batchSize });
  const cached = Array.from({ length: Math.min(data.length, count) }, (_, i) => data.batch(i));
  const trainStep = (x: T.Tensor, y: T.Tensor) => {
    const loss = crossEntropyLoss(model.forward(x), y);
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return loss;
  };
  const captured = T.capture(trainStep, { key: () => optimizer.lr });
  return {
    step: (i) => {
      const { x, y } = cached[i % cached.length]!;
      return options.eager ? T.tidy(() => trainStep(x, y)) : captured(x, y);
    },
    dispose() {
      captured.dispose();
      for (const { x, y } of cached) T.dispose([x, y]);
      model.dispose();
      optimizer.dispose();
    },
  };
}
