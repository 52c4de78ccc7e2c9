"""How big a decoder checkpoint is before it is loaded, and the budget a server refuses past.

The size is read from model.safetensors' header (names, dtypes, shapes; no tensor is read):
every floating tensor counted at 4 bytes a number, as the loader holds it (float32), so a
bf16 file counts double its size on disk. The loaded model then holds about that plus the
compiled length buckets (measured in README.md, "Bring your own decoder").
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

ENV_MAX_MB = "ATTN_DECODER_MAX_MB"
DEFAULT_MAX_MB = 32.0  # float32 weights: what fits beside the other models in a 690 MB server
_FLOATS = {"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"}


class ModelTooLargeError(RuntimeError):
    """The checkpoint's float32 weights exceed the budget (ATTN_DECODER_MAX_MB)."""


def float32_bytes(path: Path) -> int:
    """Bytes the floating tensors of a .safetensors file take as float32 (header only)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    total = 0
    for name, info in header.items():
        if name != "__metadata__" and info["dtype"] in _FLOATS:
            count = 1
            for dim in info["shape"]:
                count *= int(dim)
            total += 4 * count
    return total


def max_bytes() -> int:
    """The budget in bytes: ATTN_DECODER_MAX_MB (megabytes, 10^6) or DEFAULT_MAX_MB."""
    raw = os.environ.get(ENV_MAX_MB, "")
    try:
        mb = float(raw) if raw.strip() else DEFAULT_MAX_MB
    except ValueError:
        raise ValueError(f"{ENV_MAX_MB} must be a number of megabytes, got {raw!r}") from None
    return int(mb * 1e6)


def check_size(path: Path) -> int:
    """The file's float32 bytes; ModelTooLargeError (what it needs, the budget) past it."""
    need, budget = float32_bytes(path), max_bytes()
    if need > budget:
        raise ModelTooLargeError(
            f"{path.parent.name}: its weights take {need / 1e6:.0f} MB as float32, over this "
            f"server's budget of {budget / 1e6:.0f} MB (set {ENV_MAX_MB} to raise it, on a "
            "machine with the memory for it); pick a smaller checkpoint"
        )
    return need
