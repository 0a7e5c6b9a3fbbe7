"""The `[compliance]` settings section, read with `settings.domain("compliance", ComplianceSettings)`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.compliance.lexicon import DEFAULT_LEXICON_PATH

RiskLevel = Literal["R1", "R2", "R3", "R4", "R5"]


class ComplianceSettings(BaseModel):
    # Unknown keys are ignored, not rejected: other compliance services (archive, review, retention)
    # read their own keys from the same section with their own models.
    model_config = ConfigDict(extra="ignore", frozen=True)

    # The versioned rule file; empty means the shipped bot/compliance/rules/lexicon.toml.
    lexicon_path: str = str(DEFAULT_LEXICON_PATH)
    # Highest product risk level that may be pushed or suggested to a client without a risk rating.
    unrated_client_max_risk: RiskLevel = "R1"
    # Highest product risk level for messages without a single recipient (client groups).
    group_max_risk: RiskLevel = "R1"
    # Second stage after the lexicon: a classifier over sentence embeddings (bot.compliance.semantic).
    # A message is blocked when a rule fires OR the classifier's P(violation) >= the threshold.
    semantic_enabled: bool = True
    # Override the threshold stored with the model (chosen by CV for precision >= 0.97); None = stored.
    semantic_threshold: float | None = Field(None, ge=0.0, le=1.0)
    # How long advice records and block records are kept (years).
    retention_years: int = Field(20, ge=1, le=100)

    def build_lexicon(self):
        """The configured lexicon, with the semantic second stage attached when enabled."""
        from bot.compliance.lexicon import Lexicon

        lexicon = Lexicon.load(self.lexicon_file)
        if self.semantic_enabled:
            from bot.compliance.semantic import SemanticClassifier

            classifier = SemanticClassifier.default()
            if self.semantic_threshold is not None:
                classifier = SemanticClassifier.load(classifier.source, threshold=self.semantic_threshold)
            lexicon = lexicon.with_semantic(classifier)
        return lexicon

    @property
    def lexicon_file(self) -> Path:
        return Path(self.lexicon_path) if self.lexicon_path else DEFAULT_LEXICON_PATH
