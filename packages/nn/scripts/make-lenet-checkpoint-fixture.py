#!/usr/bin/env python3
"""Writes a small LeNet-5 checkpoint the way PyTorch would save it, for packages/nn/test/lenet5.test.ts.

An independent, plain-Python implementation (struct + json + math only: no torch, numpy or
safetensors package, and nothing taken from the TypeScript code) of:

  * the state dict of docs/pytorch-interop.md's `LeNet5` with a small configuration
    (input 1x28x28, kernels [2, 3], 5x5 filters, 2x2 pooling, hidden 8, 10 classes):
        conv1.weight [2,1,5,5]  conv1.bias [2]   conv2.weight [3,2,5,5]  conv2.bias [3]
        fc1.weight   [8,48]     fc1.bias   [8]   fc2.weight   [10,8]     fc2.bias   [10]
    with deterministic values that are exact in float32 (multiples of 1/256);
  * safetensors as `safetensors.torch.save_file` writes it: tensors ordered by dtype size then
    name, header space-padded to a multiple of 8, `__metadata__ = {"format": "pt"}`;
  * the model's forward on one deterministic image (cross-correlation, valid; 2x2 max-pool;
    tanh; flatten; fc1; tanh; fc2 -> logits), in float64.

Outputs (committed, since CI has no Python):
  test/fixtures/lenet5-small.safetensors  the state dict
  test/fixtures/lenet5-small.json         the input image and the expected logits

Run from anywhere:  python3 packages/nn/scripts/make-lenet-checkpoint-fixture.py
"""

import json
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "test", "fixtures")

C, H, W = 1, 28, 28
K1, K2 = 2, 3
F = 5
P = 2
HIDDEN = 8
CLASSES = 10
H2 = ((H - F + 1) // P - F + 1) // P  # 4
W2 = ((W - F + 1) // P - F + 1) // P  # 4
FLAT = K2 * H2 * W2  # 48

SHAPES = [
    ("conv1.weight", [K1, C, F, F]),
    ("conv1.bias", [K1]),
    ("conv2.weight", [K2, K1, F, F]),
    ("conv2.bias", [K2]),
    ("fc1.weight", [HIDDEN, FLAT]),
    ("fc1.bias", [HIDDEN]),
    ("fc2.weight", [CLASSES, HIDDEN]),
    ("fc2.bias", [CLASSES]),
]


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def values_for(t, n, scale):
    """n deterministic values in (-scale, scale), multiples of scale/32 (exact in float32)."""
    return [(((k * 37 + t * 11) % 63) - 31) * scale / 32.0 for k in range(n)]


def make_state():
    state = {}
    for t, (name, shape) in enumerate(SHAPES):
        n = numel(shape)
        scale = 0.5 if name.endswith("weight") else 0.25
        if name == "fc1.weight":
            scale = 0.25
        state[name] = (shape, values_for(t, n, scale))
    return state


def at(values, shape, *idx):
    flat = 0
    for d, i in zip(shape, idx):
        flat = flat * d + i
    return values[flat]


def conv_valid(x, xshape, w, wshape, b):
    """Cross-correlation (no kernel flip), stride 1, no padding, NCHW with N=1 dropped."""
    cin, h, wd = xshape
    cout, cin2, kh, kw = wshape
    assert cin == cin2
    oh, ow = h - kh + 1, wd - kw + 1
    out = []
    for o in range(cout):
        for i in range(oh):
            for j in range(ow):
                s = b[o]
                for c in range(cin):
                    for a in range(kh):
                        for e in range(kw):
                            s += at(x, xshape, c, i + a, j + e) * at(w, wshape, o, c, a, e)
                out.append(s)
    return out, (cout, oh, ow)


def maxpool_tanh(x, xshape):
    c, h, w = xshape
    oh, ow = h // P, w // P
    out = []
    for ch in range(c):
        for i in range(oh):
            for j in range(ow):
                m = max(at(x, xshape, ch, i * P + a, j * P + e) for a in range(P) for e in range(P))
                out.append(math.tanh(m))
    return out, (c, oh, ow)


def linear(x, w, wshape, b):
    nout, nin = wshape
    assert len(x) == nin
    return [b[o] + sum(x[i] * w[o * nin + i] for i in range(nin)) for o in range(nout)]


def forward(state, image):
    h, s = conv_valid(image, (C, H, W), state["conv1.weight"][1], state["conv1.weight"][0], state["conv1.bias"][1])
    h, s = maxpool_tanh(h, s)
    h, s = conv_valid(h, s, state["conv2.weight"][1], state["conv2.weight"][0], state["conv2.bias"][1])
    h, s = maxpool_tanh(h, s)
    assert len(h) == FLAT
    h = [math.tanh(v) for v in linear(h, state["fc1.weight"][1], state["fc1.weight"][0], state["fc1.bias"][1])]
    return linear(h, state["fc2.weight"][1], state["fc2.weight"][0], state["fc2.bias"][1])


def write_safetensors(path, state, metadata):
    # safetensors.torch.save_file order: by dtype size (all F32 here), then by name.
    header = {"__metadata__": metadata}
    chunks = []
    offset = 0
    for name in sorted(state):
        shape, values = state[name]
        data = struct.pack("<%df" % len(values), *values)
        assert struct.unpack("<%df" % len(values), data) == tuple(values), "values must be exact in float32"
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for c in chunks:
            f.write(c)
    print("wrote %s (%d bytes)" % (os.path.relpath(path), 8 + len(header_bytes) + offset))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    state = make_state()
    write_safetensors(os.path.join(OUT_DIR, "lenet5-small.safetensors"), state, {"format": "pt"})
    # A deterministic image in [0, 1), exact in float32 (multiples of 1/64).
    image = [((i * 7 + (i // 28) * 3) % 64) / 64.0 for i in range(C * H * W)]
    logits = forward(state, image)
    out = {
        "config": {"inputShape": [C, H, W], "kernels": [K1, K2], "filterSize": F, "poolSize": P, "hidden": HIDDEN, "classes": CLASSES},
        "image": image,
        "logits": logits,
        "sums": {name: math.fsum(values) for name, (shape, values) in sorted(state.items())},
    }
    path = os.path.join(OUT_DIR, "lenet5-small.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote %s" % os.path.relpath(path))


if __name__ == "__main__":
    main()
