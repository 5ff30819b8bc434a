#!/usr/bin/env python3
"""Writes test/fixtures/lenet5-init.json, used by packages/nn/test/lenet5.test.ts.

The DeepLearningTutorials LeNet-5 draws its initial weights from one
`numpy.random.RandomState(23455)`, in layer order (see shared/REFERENCE.md):

    layer0 W  uniform(-sqrt(3/25),  +sqrt(3/25),  (20, 1, 5, 5))    conv, fan_in = 1*5*5
    layer1 W  uniform(-sqrt(3/500), +sqrt(3/500), (50, 20, 5, 5))   conv, fan_in = 20*5*5
    layer2 W  uniform(-sqrt(6/1300), +sqrt(6/1300), (800, 500))     hidden, Theano layout [n_in, n_out]

each cast to float32 (floatX). The logistic-regression layer and every bias are zeros.
This script records, for each array, a handful of values with their (Theano-layout) indices,
the float64 sum of all values, and a position-weighted checksum sum(v[k] * (k % 101 + 1))
over the row-major flat index k (which catches transposed or shuffled layouts). The JSON is
committed because CI has no Python. Needs numpy.

Run from anywhere:  python3 packages/nn/scripts/make-lenet-init-fixture.py
"""

import json
import math
import os

import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "test", "fixtures", "lenet5-init.json")


def describe(name, arr, low, high):
    flat = arr.reshape(-1)
    n = flat.size
    # First, last and some spread-out positions.
    picks = sorted({0, 1, 2, n // 7, n // 3, n // 2, (2 * n) // 3, n - 2, n - 1})
    samples = []
    for k in picks:
        index = [int(i) for i in numpy.unravel_index(k, arr.shape)]
        samples.append({"index": index, "value": float(flat[k])})
    values = [float(v) for v in flat.tolist()]  # exact float32 values as Python floats
    total = math.fsum(values)
    checksum = math.fsum(v * (k % 101 + 1) for k, v in enumerate(values))
    return {
        "name": name,
        "shape": list(arr.shape),
        "low": low,
        "high": high,
        "samples": samples,
        "sum": total,
        "weightedSum": checksum,
        "min": float(flat.min()),
        "max": float(flat.max()),
    }


def main():
    rng = numpy.random.RandomState(23455)
    draws = [
        ("layer0.W", (20, 1, 5, 5), math.sqrt(3.0 / 25)),
        ("layer1.W", (50, 20, 5, 5), math.sqrt(3.0 / 500)),
        ("layer2.W", (800, 500), math.sqrt(6.0 / 1300)),
    ]
    arrays = []
    for name, shape, bound in draws:
        arr = numpy.asarray(rng.uniform(low=-bound, high=bound, size=shape), dtype=numpy.float32)
        arrays.append(describe(name, arr, -bound, bound))
    out = {
        "generator": "numpy.random.RandomState(23455)",
        "numpy": numpy.__version__,
        "note": "Theano layouts: conv W [out, in, kh, kw]; hidden W [n_in, n_out] (our fc1.weight is its transpose). "
        "sum and weightedSum are exact float64 sums (math.fsum) over row-major flat index k; weightedSum weights v[k] by k % 101 + 1.",
        "arrays": arrays,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    print("wrote %s" % os.path.relpath(OUT))


if __name__ == "__main__":
    main()
