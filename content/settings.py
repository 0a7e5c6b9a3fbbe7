"""Settings for the `[content]` section, read with ``settings.domain("content", ContentSettings)``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_USER_DICT = PACKAGE_DIR / "resources" / "finance_dict.txt"
STARTER_PACK_DIR = PACKAGE_DIR / "starter_pack"


class Thresholds(BaseModel):
    """Minimum best-candidate score for a confident answer, one per retrieval mode.

    Calibrated with ``advisor-bot content calibrate`` on a labelled file (see docs/content.md).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    fused: float = Field(0.6, ge=0, le=2)
    lexical: float = Field(0.35, ge=0, le=2)
    dense: float = Field(0.8, ge=-1, le=1)
    # Margin rule (fused mode only; None = off): a best score under `fused` but at least `fused_low`
    # is still confident when it leads the next item's score by at least `fused_margin`.
    fused_low: float | None = Field(None, ge=0, le=2)
    fused_margin: float = Field(0.0, ge=0, le=2)


def _default_thresholds() -> dict[str, Thresholds]:
    # Keyed by embedding backend kind: cosine scales differ a lot between encoders.
    # "use": calibrated on content/eval/starter_dev.json + holdout_dev.json (the lowest score above every
    # out-of-scope query the intent rules let through; the margin rule likewise, with headroom over the
    # largest out-of-scope lead, 0.037). "sentence-transformers": provisional until calibrated on the
    # production model (run `advisor-bot content calibrate` once it is installed).
    return {
        "use": Thresholds(fused=0.531, lexical=0.299, dense=0.733, fused_low=0.42, fused_margin=0.05),
        "sentence-transformers": Thresholds(fused=0.60, lexical=0.31, dense=0.75),
    }


class ContentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # "auto": sentence-transformers if the model is available locally, else the offline USE encoder.
    embedding_backend: Literal["auto", "sentence-transformers", "use"] = "auto"
    # A local directory, or a hub name already in the model cache; never downloaded.
    model: str = "BAAI/bge-small-zh-v1.5"
    model_cache_dir: str | None = None
    device: str = "cpu"
    # Prefix added to queries only (bge models document one for short-query retrieval; empty = none).
    query_prefix: str = ""
    torch_threads: int = Field(1, ge=1)
    use_threads: int = Field(1, ge=1)

    mode: Literal["lexical", "dense", "fused"] = "fused"
    fusion: Literal["weighted", "rrf"] = "weighted"
    lexical_weight: float = Field(0.5, ge=0, le=1)
    dense_weight: float = Field(0.5, ge=0, le=1)
    rrf_k: int = Field(60, ge=1)
    # Share of the lexical score that comes from the answer body (the rest: title and phrasings).
    body_weight: float = Field(0.2, ge=0, le=1)
    # Share of each passage's lexical score from character bigrams (the rest: jieba words); 0 = off.
    bigram_weight: float = Field(0.0, ge=0, le=1)
    thresholds: dict[str, Thresholds] = Field(default_factory=_default_thresholds)
    # Dense first stage keeps this many items (by centroid), lexical stage this many passages.
    candidate_pool: int = Field(100, ge=1)
    # Above this many live items the dense first stage scans a PCA projection to
    # `dense_reduce_dims` dimensions (candidates are rescored exactly); 0 = always exact.
    dense_reduce_above: int = Field(50_000, ge=0)
    dense_reduce_dims: int = Field(128, ge=8)
    # Intents that make the matcher abstain (the conversation goes to a person instead).
    # The scope check (content.scope): a question the classifier calls out of scope with at least this
    # probability is not answered from the library; None = the shipped model's CV-chosen threshold.
    scope_check: bool = True
    scope_threshold: float | None = Field(None, ge=0, le=1)
    # A question asking what a term means (「做市商是什么」) is not answered when the term holds a word that no
    # item contains: no item can define it.
    unknown_term_check: bool = True
    # Words typed or dictated by sound (「窗业板」「修眠账户」) are searched as the library word they sound like.
    respell: bool = True
    abstain_intents: list[str] = Field(
        default_factory=lambda: ["stock_pick", "market_prediction", "account_operation", "complaint", "human",
                                 "company", "guarantee", "other_finance"])
    # Item kinds the client-question matcher searches (advisor scripts are for people, not clients).
    match_kinds: list[str] = Field(
        default_factory=lambda: ["faq", "education", "article", "product_note", "video"])

    user_dict: str = str(DEFAULT_USER_DICT)
    starter_pack_dir: str = str(STARTER_PACK_DIR)
    # Where jieba keeps its dictionary cache; None = the system temp directory.
    index_dir: str | None = None
    # Seconds between generation checks before a search; 0 = check before every search.
    refresh_interval_seconds: float = Field(0.0, ge=0)

    def thresholds_for(self, backend_key: str, backend_kind: str) -> Thresholds:
        """Thresholds for an exact backend key (e.g. "st:BAAI/bge-small-zh-v1.5"), else its kind."""
        return self.thresholds.get(backend_key) or self.thresholds.get(backend_kind) or Thresholds()
