#!/usr/bin/env python3
"""Writes test/fixtures/lenet5-init-theano-conv.json, used by packages/nn/test/lenet5-init.test.ts.

The tutorial's LeNet-5 draws its filters from numpy.random.RandomState(23455) (see
make-lenet-init-fixture.py for the draws) and hands them to Theano's conv2d, a true convolution,
which flips each filter on both spatial axes. Our conv2d, like PyTorch's, is a cross-correlation,
so LeNet5's default init ("theano-conv") stores each drawn filter flipped. This script records
what the weights must then be, in our (PyTorch) layout, as float32:

    conv1.weight = W0[:, :, ::-1, ::-1]   W0 (20, 1, 5, 5)  uniform(+-sqrt(3/25))
    conv2.weight = W1[:, :, ::-1, ::-1]   W1 (50, 20, 5, 5) uniform(+-sqrt(3/500))
    fc1.weight   = W2.T                   W2 (800, 500)     uniform(+-sqrt(6/1300)), not flipped

For each: the first 16 values in row-major order, a few more with their indices, the float64 sum
and the position-weighted sum sum(v[k] * (k % 101 + 1)) over the row-major index k (which a
missing or extra flip changes).

It also records what the tutorial's first layer computes on a fixed input: Theano's valid
convolution of x = RandomState(7).uniform(0, 1, (1, 28, 28)) with the drawn (float32) W0, in
float64, computed with the FFT (the convolution theorem: no kernel index is reversed by hand) and
checked against the textbook sum out[k, i, j] = sum_{a,b} W0[k, 0, a, b] x[0, i+4-a, j+4-b].

CI has no Python, so the JSON is committed. Needs numpy.
Run from anywhere:  python3 packages/nn/scripts/make-lenet-theano-conv-fixture.py
"""

import json
import math
import os

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "lenet5-init-theano-conv.json")


def describe(name, arr):
    flat = arr.reshape(-1)
    n = flat.size
    values = [float(v) for v in flat.tolist()]  # exact float32 values as Python floats
    picks = sorted({n // 7, n // 3, n // 2, (2 * n) // 3, n - 2, n - 1})
    return {
        "name": name,
        "shape": list(arr.shape),
        "first": values[:16],
        "samples": [{"index": [int(i) for i in numpy.unravel_index(k, arr.shape)], "value": values[k]} for k in picks],
        "sum": math.fsum(values),
        "weightedSum": math.fsum(v * (k % 101 + 1) for k, v in enumerate(values)),
    }


def theano_conv_valid(x, w):
    """Valid 2-D convolution (Theano's conv2d, border_mode='valid') of x [C,H,W] with w [K,C,f,f], by FFT."""
    c, h, wd = x.shape
    k, _, f, _ = w.shape
    fh, fw = h + f - 1, wd + f - 1
    xf = numpy.fft.rfft2(x, s=(fh, fw))
    out = numpy.empty((k, h - f + 1, wd - f + 1))
    for o in range(k):
        full = numpy.fft.irfft2((xf * numpy.fft.rfft2(w[o], s=(fh, fw))).sum(axis=0), s=(fh, fw))
        out[o] = full[f - 1 : h, f - 1 : wd]
    return out


def textbook_conv_valid(x, w):
    c, h, wd = x.shape
    k, _, f, _ = w.shape
    out = numpy.zeros((k, h - f + 1, wd - f + 1))
    for a in range(f):
        for b in range(f):
            patch = x[:, f - 1 - a : h - a, f - 1 - b : wd - b]  # x[c, i + f-1-a, j + f-1-b]
            out += numpy.einsum("kc,cij->kij", w[:, :, a, b], patch)
    return out


def main():
    rng = numpy.random.RandomState(23455)
    f32 = lambda a: numpy.asarray(a, dtype=numpy.float32)
    w0 = f32(rng.uniform(low=-math.sqrt(3.0 / 25), high=math.sqrt(3.0 / 25), size=(20, 1, 5, 5)))
    w1 = f32(rng.uniform(low=-math.sqrt(3.0 / 500), high=math.sqrt(3.0 / 500), size=(50, 20, 5, 5)))
    w2 = f32(rng.uniform(low=-math.sqrt(6.0 / 1300), high=math.sqrt(6.0 / 1300), size=(800, 500)))
    parameters = [
        describe("conv1.weight", numpy.ascontiguousarray(w0[:, :, ::-1, ::-1])),
        describe("conv2.weight", numpy.ascontiguousarray(w1[:, :, ::-1, ::-1])),
        describe("fc1.weight", numpy.ascontiguousarray(w2.T)),
    ]

    x = numpy.random.RandomState(7).uniform(0, 1, size=(1, 28, 28))
    conv = theano_conv_valid(x, w0.astype(numpy.float64))
    textbook = textbook_conv_valid(x, w0.astype(numpy.float64))
    assert numpy.max(numpy.abs(conv - textbook)) < 1e-12, "FFT and textbook convolutions disagree"
    positions = [(0, 0, 0), (0, 0, 1), (0, 1, 0), (0, 23, 23), (7, 11, 5), (13, 2, 19), (19, 23, 0), (19, 12, 12)]
    conv1 = {
        "input": "numpy.random.RandomState(7).uniform(0, 1, size=(1, 28, 28))",
        "shape": list(conv.shape),
        "samples": [{"index": list(p), "value": float(conv[p])} for p in positions],
        "sums": [math.fsum(conv[o].reshape(-1).tolist()) for o in range(conv.shape[0])],
    }

    out = {
        "generator": "numpy.random.RandomState(23455)",
        "numpy": numpy.__version__,
        "note": "Our layouts (PyTorch's): conv weights [out, in, kh, kw] = the drawn filters flipped on both spatial axes; "
        "fc1.weight [500, 800] = the tutorial's hidden W transposed. sum and weightedSum are exact float64 sums (math.fsum) "
        "over the row-major index k; weightedSum weights v[k] by k % 101 + 1. theanoConv1: Theano's valid convolution "
        "of the input with the drawn layer0 W (float32 values, float64 arithmetic).",
        "parameters": parameters,
        "theanoConv1": conv1,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print("wrote %s" % os.path.relpath(OUT))


if __name__ == "__main__":
    main()
