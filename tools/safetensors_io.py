"""Minimal writer for the safetensors format (https://github.com/huggingface/safetensors,
"Format" section): 8-byte little-endian u64 header length N, then N bytes of UTF-8 JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}
padded with spaces to a multiple of 8, then the raw little-endian tensor bytes; offsets
are relative to the first byte after the header. Written here because the `safetensors`
Python package is not installed; only F32 is needed.
"""

import json
import struct

import numpy as np


def save_f32(path, tensors, metadata=None):
    """tensors: ordered list of (name, numpy array). Data is stored in that order."""
    header = {}
    blobs = []
    offset = 0
    for name, arr in tensors:
        a = np.ascontiguousarray(arr, dtype="<f4")
        nbytes = a.size * 4
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + nbytes]}
        blobs.append(a.tobytes())
        offset += nbytes
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((-len(hjson)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def load_f32(path):
    """Reads back a file written by save_f32 (used to check round trips and by other tools)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F32", info
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + b:base + e], dtype="<f4").reshape(info["shape"]).copy()
    return out, meta
