/**
 * The README's example: define LeNet-5, train it on MNIST, evaluate it. Run with
 * `pnpm --filter @tessera/example-mnist start` (TRAIN_IMAGES sets how many images to train on).
 */
import "@tessera/backend-cpu"; // registers the CPU backend (the default)
import { noGrad } from "@tessera/autograd"; // installs autograd: .backward() works
import { batches, loadMnist } from "@tessera/datasets";
import { LeNet5, SGD, crossEntropyLoss } from "@tessera/nn";
import * as T from "@tessera/tensor";

/** Trains on the first `trainImages` images for one epoch; returns the test error in percent. */
export async function trainAndEvaluate(trainImages = 5000, testImages = 10000): Promise<number> {
  const { train, test } = await loadMnist(); // bundled MNIST, the tutorial's 50k/10k/10k split
  const model = new LeNet5();
  const optimizer = new SGD(model.parameters(), { lr: 0.1 });
  for (const { x, y } of batches(train.slice(0, trainImages), { batchSize: 50 })) {
    T.tidy(() => crossEntropyLoss(model.forward(x), y).backward()); // frees the graph, keeps .grad
    optimizer.step();
    optimizer.zeroGrad();
    T.dispose([x, y]);
  }
  const evalSet = test.slice(0, testImages);
  let wrong = 0;
  for (const { x, y } of batches(evalSet, { batchSize: 500 })) {
    wrong += noGrad(() => T.tidy(() => T.sum(T.notEqual(T.argmax(model.forward(x), 1), y)).item()));
    T.dispose([x, y]);
  }
  model.dispose();
  return (100 * wrong) / evalSet.count;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const error = await trainAndEvaluate(Number(process.env.TRAIN_IMAGES ?? 5000));
  console.log(`test error ${error.toFixed(2)} %`);
}
