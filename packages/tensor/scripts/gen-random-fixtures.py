#!/usr/bin/env python3
"""Writes test/fixtures/numpy-random.json: reference draws from numpy's legacy RandomState.

CI has no Python, so the JSON is committed; rerun this after changing what the tests compare:

    python3 packages/tensor/scripts/gen-random-fixtures.py

Gaussians go through the C library's `log`, so regenerate on x86-64 Linux (glibc >= 2.28, a CPU
with FMA), the platform whose `log` RandomState ports.
"""

import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "numpy-random.json")


def floats(a):
    # json writes Python floats with repr, the shortest text that parses back to the same double.
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


def state(rs):
    name, key, pos, has_gauss, gauss = rs.get_state()
    assert name == "MT19937"
    return {"key": ints(key), "pos": int(pos), "hasGauss": bool(has_gauss), "gauss": float(gauss)}


def seeds():
    out = {}
    for seed in [0, 1, 23455, 4294967295]:
        rs = np.random.RandomState(seed)
        key_head = ints(rs.get_state()[1][:8])
        uint32 = ints(rs.randint(0, 2**32, size=8, dtype=np.uint32))
        rand = floats(rs.rand(6))
        # 700 doubles = 1400 words: crosses two regenerations of the 624-word block.
        tail = floats(rs.rand(700)[-3:])
        out[str(seed)] = {"keyHead": key_head, "uint32": uint32, "rand": rand, "randTail": tail}
    return out


def mixed():
    rs = np.random.RandomState(1234)
    steps = []

    def step(call, args, values):
        steps.append({"call": call, "args": args, "values": values})

    step("rand", [3], floats(rs.rand(3)))
    step("normal", [0, 1, 3], floats(rs.normal(0, 1, 3)))  # odd count: leaves a cached gaussian
    step("randint", [0, 100, 5], ints(rs.randint(0, 100, 5)))
    step("rand", [2], floats(rs.rand(2)))
    step("standardNormal", [1], floats(rs.standard_normal(1)))  # served from the cache
    step("randint", [5, 6, 3], ints(rs.randint(5, 6, 3)))  # one-value range: numpy draws nothing
    step("uniform", [-2, 3, 2], floats(rs.uniform(-2, 3, 2)))
    step("randint", [-(2**31), 2**31, 3], ints(rs.randint(-(2**31), 2**31, 3)))  # full 32-bit range
    step("permutation", [7], ints(rs.permutation(7)))
    step("normal", [2.5, 0.5, 2], floats(rs.normal(2.5, 0.5, 2)))
    step("rand", [2], floats(rs.rand(2)))
    return steps


def main():
    fx = {"numpyVersion": np.__version__, "seeds": seeds()}

    fx["uniform23455"] = floats(np.random.RandomState(23455).uniform(-0.3464, 0.3464, 500))
    fx["rand1"] = floats(np.random.RandomState(1).rand(3, 2, 5, 5))
    fx["randint0"] = ints(np.random.RandomState(0).randint(0, 10, 50))
    fx["randintWide0"] = ints(np.random.RandomState(0).randint(-5, 1000003, 20))
    fx["permutation0"] = ints(np.random.RandomState(0).permutation(20))

    floats_to_shuffle = np.arange(12, dtype=np.float64) * 0.5
    np.random.RandomState(1).shuffle(floats_to_shuffle)
    fx["shuffle1"] = floats(floats_to_shuffle)

    rs = np.random.RandomState(0)
    fx["normal0"] = floats(rs.normal(0, 1, 101))
    fx["normal0State"] = {k: v for k, v in state(rs).items() if k != "key"}
    fx["normalLoc23455"] = floats(np.random.RandomState(23455).normal(-1.5, 2.0, 9))

    # Spot checks across many gaussians: a wrong last bit in `log` shows up within a few thousand.
    big = np.random.RandomState(1).standard_normal(20000)
    idx = list(range(0, 20000, 499)) + [19999]
    fx["standardNormalSpot1"] = {"count": 20000, "index": idx, "values": floats(big[idx])}

    fx["mixed1234"] = mixed()

    rs = np.random.RandomState(23455)
    rs.rand(1000)
    rs.normal(0, 1, 3)
    fx["state23455"] = {"after": "rand(1000) then normal(0, 1, 3)", "state": state(rs), "next": floats(rs.rand(4))}

    with open(OUT, "w") as f:
        json.dump(fx, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
