import pytest

from content.importer import read_records
from content.intents import (ACCOUNT_OPERATION, COMPLAINT, HUMAN, MARKET_PREDICTION, STOCK_PICK, classify_intent,
                             is_small_talk)
from content.settings import STARTER_PACK_DIR
from content.tokenize import Tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer()


def test_finance_dictionary_and_synonyms(tokenizer):
    tokens = tokenizer.tokens("两融的维持担保比例是多少？")
    assert "维持担保比例" in tokens and "融资融券" in tokens  # user dictionary word; synonym expansion
    assert "的" not in tokens and "？" not in tokens
    assert tokenizer.tokens("ＳＴ股票") == tokenizer.tokens("st股票")  # full-width folded


@pytest.mark.parametrize("text, intent", [
    ("推荐一只能涨的股票", STOCK_PICK), ("现在买什么好", STOCK_PICK), ("600519还能拿吗", STOCK_PICK),
    ("要不要割肉", STOCK_PICK), ("有没有内幕消息", STOCK_PICK),
    ("明天大盘会涨吗", MARKET_PREDICTION), ("后市怎么看", MARKET_PREDICTION), ("A股什么时候见底", MARKET_PREDICTION),
    ("今年能到4000点吗", MARKET_PREDICTION),
    ("帮我把茅台卖了", ACCOUNT_OPERATION), ("密码发给你，你帮我操作", ACCOUNT_OPERATION),
    ("我要投诉你们", COMPLAINT), ("你们态度太差了", COMPLAINT),
    ("转人工", HUMAN), ("你是机器人吗", HUMAN), ("请联系我", HUMAN),
])
def test_must_go_to_a_person(text, intent):
    assert classify_intent(text) == intent


@pytest.mark.parametrize("text", ["涨跌幅限制是多少", "怎么撤单", "被骗了怎么办", "收费荐股合法吗",
                                  "家里人能帮我操作账户吗", "创业板怎么开通", ""])
def test_business_questions_are_not_handoff_intents(text):
    assert classify_intent(text) is None


def test_no_starter_pack_phrasing_is_taken_for_a_handoff_or_small_talk():
    records, _ = read_records(STARTER_PACK_DIR)
    hits = [(data.slug, q, classify_intent(q)) for _, data in records if data.kind != "script"
            for q in [data.title, *data.questions] if classify_intent(q) or is_small_talk(q)]
    assert hits == []


@pytest.mark.parametrize("text, expected", [("你好", True), ("在吗？", True), ("谢谢啊", True),
                                            ("今天天气怎么样", True), ("你好，怎么开户", False)])
def test_small_talk(text, expected):
    assert is_small_talk(text) is expected
