#!/usr/bin/env python3
"""Writes the safetensors fixtures used by packages/nn/test/safetensors.test.ts.

An independent, plain-Python writer of the safetensors format (struct + json only,
no `safetensors`/`torch`/`numpy`), written from the specification at
https://huggingface.co/docs/safetensors rather than from the TypeScript code:

    8 bytes   little-endian u64 N = header length
    N bytes   UTF-8 JSON header {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}
    rest      byte buffer, offsets relative to its start, little-endian row-major data

Outputs (committed, since CI has no Python):
  test/fixtures/reference.safetensors  laid out like the reference writer: tensors ordered by
                                       dtype size (largest first) then name, header space-padded
                                       to a multiple of 8, __metadata__ present.
  test/fixtures/unaligned.safetensors  tensors in name order with a 3-byte U8 tensor first and an
                                       unpadded header, so F32/F64/I32 data sit at unaligned offsets.

Run from anywhere:  python3 packages/nn/scripts/make-safetensors-fixture.py
"""

import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "..", "test", "fixtures")

# dtype -> (struct format character, item size in bytes)
FORMATS = {
    "F64": ("d", 8),
    "F32": ("f", 4),
    "F16": ("e", 2),
    "I64": ("q", 8),
    "I32": ("i", 4),
    "I16": ("h", 2),
    "I8": ("b", 1),
    "U8": ("B", 1),
    "BOOL": ("?", 1),
}


def pack_values(dtype, values):
    """Little-endian bytes of a flat list of values in `dtype`."""
    if dtype == "BF16":
        # bfloat16 = the upper 16 bits of the IEEE float32 pattern (values chosen to be exact).
        out = b""
        for v in values:
            (bits,) = struct.unpack("<I", struct.pack("<f", v))
            assert bits & 0xFFFF == 0, "value not exactly representable in bfloat16"
            out += struct.pack("<H", bits >> 16)
        return out
    fmt, _ = FORMATS[dtype]
    return struct.pack("<%d%s" % (len(values), fmt), *values)


def numel(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def item_size(dtype):
    return 2 if dtype == "BF16" else FORMATS[dtype][1]


def write(path, tensors, metadata, order, pad):
    """tensors: {name: (dtype, shape, flat values)}; order: list of names in buffer order."""
    header = {}
    if metadata:
        header["__metadata__"] = metadata
    chunks = []
    offset = 0
    for name in order:
        dtype, shape, values = tensors[name]
        assert len(values) == numel(shape)
        data = pack_values(dtype, values)
        assert len(data) == numel(shape) * item_size(dtype)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    if pad:
        header_bytes += b" " * ((8 - len(header_bytes) % 8) % 8)
    if not pad:
        assert len(header_bytes) % 8 != 0, "the unpadded fixture should have an odd-sized header"
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for c in chunks:
            f.write(c)
    print("wrote %s (%d bytes)" % (os.path.relpath(path), 8 + len(header_bytes) + offset))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)

    reference = {
        "weight": ("F32", [2, 3], [0.5, -1.25, 3.0, 0.0, 1e-3, -7.75]),
        "double": ("F64", [3], [1.5, -2.25, 0.1]),
        "steps": ("I64", [2, 2], [-3, 0, 2147483647, -2147483648]),
        "counts": ("I32", [3], [1, -2, 123456789]),
        "half": ("F16", [5], [1.0, -2.5, 65504.0, 2.0 ** -14, 2.0 ** -24]),
        "brain": ("BF16", [3], [1.0, -3.5, 0.15625]),
        "short": ("I16", [2], [-32768, 32767]),
        "tiny": ("I8", [3], [-128, 0, 127]),
        "bytes": ("U8", [3], [0, 128, 255]),
        "mask": ("BOOL", [2, 2], [True, False, False, True]),
        "scalar": ("F32", [], [7.0]),
        "empty": ("F32", [0, 4], []),
    }
    metadata = {"format": "pt", "writer": "make-safetensors-fixture.py"}
    # Like the reference writer: larger dtypes first (keeps data aligned), ties broken by name.
    order = sorted(reference, key=lambda n: (-item_size(reference[n][0]), n))
    write(os.path.join(OUT_DIR, "reference.safetensors"), reference, metadata, order, pad=True)

    unaligned = {
        "a": ("U8", [3], [1, 2, 3]),
        "b": ("F32", [2], [1.5, -0.25]),
        "c": ("F64", [1], [-8.5]),
        "d": ("I32", [2], [-1, 65536]),
        "e": ("I64", [1], [-42]),
    }
    write(os.path.join(OUT_DIR, "unaligned.safetensors"), unaligned, {"layout": "unaligned"}, sorted(unaligned), pad=False)


if __name__ == "__main__":
    main()
