import pytest

from content.importer import read_records
import json

from content.intents import (ACCOUNT_OPERATION, COMPANY, COMPLAINT, GUARANTEE, HUMAN, MARKET_PREDICTION,
                             OTHER_FINANCE, STOCK_PICK, classify_intent, is_small_talk)
from content.settings import PACKAGE_DIR, STARTER_PACK_DIR
from content.tokenize import Tokenizer, arabic_numerals


@pytest.fixture(scope="module")
def tokenizer():
    return Tokenizer()


def test_finance_dictionary_and_synonyms(tokenizer):
    tokens = tokenizer.tokens("两融的维持担保比例是多少？")
    assert "维持担保比例" in tokens and "融资融券" in tokens  # user dictionary word; synonym expansion
    assert "的" not in tokens and "？" not in tokens
    assert tokenizer.tokens("ＳＴ股票") == tokenizer.tokens("st股票")  # full-width folded


@pytest.mark.parametrize("text, expected", [
    ("开北交所要五十万吗", "50万"), ("十转五是什么意思", "10转5"), ("涨停是百分之二十吗", "20%"),
    ("两年交易经验", "2年"), ("七十多岁能开户吗", "70多岁"), ("一定赚钱吗", "一定赚钱吗"), ("一般多久", "一般多久"),
])
def test_chinese_numerals_before_units_become_digits(text, expected):
    assert expected in arabic_numerals(text)


def test_phrase_rules_keep_the_direction_of_a_bank_transfer(tokenizer):
    assert "银行转证券" in tokenizer.tokens("银行卡里的钱怎么弄到股票账户")
    assert "证券转银行" in tokenizer.tokens("证券账户的钱怎么转回银行卡")
    assert "银行转证券" not in tokenizer.tokens("证券账户的钱怎么转回银行卡")
    assert "创业板" in tokenizer.tokens("301开头的买不了") and "周末" in tokenizer.tokens("周六能转账吗")


def test_abbreviations_codes_rates_and_ages(tokenizer):
    assert "创业板" in tokenizer.tokens("kcb和cyb哪个门槛高") and "港股通" in tokenizer.tokens("ggt怎么开")
    assert "cyb" not in tokenizer.tokens("cyb权限") and "创业板" not in tokenizer.tokens("abcyb")
    assert "逆回购" in tokenizer.tokens("131810是什么") and "逆回购" in tokenizer.tokens("国债逆回够")
    assert "佣金" in tokenizer.tokens("万1.5贵不贵") and "佣金" not in tokenizer.tokens("开户要5万1千吗")
    assert "佣金" not in tokenizer.tokens("万一被骗了怎么办")
    assert "未成年人" in tokenizer.tokens("16岁能炒股吗") and "老年人" in tokenizer.tokens("六十五岁还能开户吗")
    assert "老年人" not in tokenizer.tokens("25岁能开户吗")
    assert "可转债" in tokenizer.tokens("kzz是啥") and arabic_numerals("要50w吗") == "要50万吗"


def test_regional_question_words_weigh_no_more_than_mandarin_ones(tokenizer):
    assert tokenizer.tokens("REITs投的是啥子") == tokenizer.tokens("REITs投的是什么")
    assert tokenizer.tokens("手机掉了咋整") == tokenizer.tokens("手机掉了怎么办")


def test_character_bigrams_skip_stop_pairs(tokenizer):
    grams = tokenizer.bigrams("开户要钱吗")
    assert "开户" in grams and "户要" in grams and "钱吗" in grams
    assert all(len(g) == 2 for g in grams) and tokenizer.bigrams("的吗") == ()


@pytest.mark.parametrize("text, intent", [
    ("推荐一只能涨的股票", STOCK_PICK), ("现在买什么好", STOCK_PICK), ("600519还能拿吗", STOCK_PICK),
    ("要不要割肉", STOCK_PICK), ("有没有内幕消息", STOCK_PICK),
    ("明天大盘会涨吗", MARKET_PREDICTION), ("后市怎么看", MARKET_PREDICTION), ("A股什么时候见底", MARKET_PREDICTION),
    ("今年能到4000点吗", MARKET_PREDICTION),
    # The client's own account data: a person who can see the account answers.
    ("我上个月交了多少手续费", ACCOUNT_OPERATION), ("我的风险测评是不是过期了", ACCOUNT_OPERATION),
    ("把今天的交割单发我一份", ACCOUNT_OPERATION), ("我昨天那笔转账到账了吗", ACCOUNT_OPERATION),
    ("我上周申购的新股中签没有？帮我看看", ACCOUNT_OPERATION), ("新股上市第一天卖还是拿着好", STOCK_PICK),
    ("我是什么风险等级", ACCOUNT_OPERATION), ("我的钱被冻结了，你们凭什么", COMPLAINT),
    ("帮我把茅台卖了", ACCOUNT_OPERATION), ("密码发给你，你帮我操作", ACCOUNT_OPERATION),
    ("我要投诉你们", COMPLAINT), ("你们态度太差了", COMPLAINT), ("开户审核三天了还没好，效率也太低了吧", COMPLAINT),
    ("转人工", HUMAN), ("你是机器人吗", HUMAN), ("请联系我", HUMAN),
    ("帮我撤掉那笔委托", ACCOUNT_OPERATION), ("你给我把密码重置一下", ACCOUNT_OPERATION),
    ("麻烦帮我开通一下创业板", ACCOUNT_OPERATION),
    ("哪只转债值得打", STOCK_PICK), ("这几个新股哪个最值得", STOCK_PICK), ("现在入场合适吗", STOCK_PICK),
    ("这只基金今年收益怎么样", STOCK_PICK),
    ("下周科创板会不会大跌", MARKET_PREDICTION), ("国债逆回购下周利率会高吗", MARKET_PREDICTION),
    ("上市首日能翻几倍", MARKET_PREDICTION), ("人民币下半年会贬值吗", MARKET_PREDICTION),
    ("今天大盘为什么大跌", MARKET_PREDICTION), ("你们要赔我", COMPLAINT),
    ("贵公司的股价怎么这么低", COMPANY), ("你们券商的市值多少", COMPANY), ("你们能保证收益吗", GUARANTEE),
    # General forms: which-one-pays-most picks, A-or-B picks, requests for a sure thing, account requests
    # with 把…还/调/申购, level predictions (会冲到多少), the company's own dividends.
    ("买哪种债基回报最高", STOCK_PICK), ("纳指ETF和标普ETF哪个明年涨得多", STOCK_PICK),
    ("买黄金ETF还是白银基金好", STOCK_PICK), ("光伏还能追吗", STOCK_PICK),
    ("有没有稳赚的办法", GUARANTEE), ("这个产品能稳拿4%的利息吗", GUARANTEE),
    ("保证年化8%我就买", GUARANTEE),
    ("帮我把两融欠款还掉", ACCOUNT_OPERATION), ("麻烦帮我把那只新债申购了", ACCOUNT_OPERATION),
    ("帮我把测评等级调高一点", ACCOUNT_OPERATION), ("帮我设一个止损单", ACCOUNT_OPERATION),
    ("帮我看下我的仓位", ACCOUNT_OPERATION), ("帮我查查我老婆账户的余额", ACCOUNT_OPERATION),
    ("月底国债收益率会跌到多少", MARKET_PREDICTION), ("下个月会降准吗", MARKET_PREDICTION),
    ("贵公司去年每股派息多少", COMPANY), ("你们券商年报分红方案出了吗", COMPANY),
    # Picks without 买 (哪个/哪种/什么 … 最好/收益最高/推荐), rate decisions, 帮我还, sure-thing products, jobs.
    ("哪种理财收益最高", STOCK_PICK), ("哪家的货币基金最值得", STOCK_PICK), ("什么债券基金最好", STOCK_PICK),
    ("给我推荐一只明天涨停的", STOCK_PICK), ("最近有什么热点", STOCK_PICK),
    ("央行什么时候降息", MARKET_PREDICTION), ("汇率接下来会升还是贬", MARKET_PREDICTION),
    ("帮我还一下融资欠款", ACCOUNT_OPERATION), ("保本保收益的产品有吗", GUARANTEE), ("你们公司招人吗", COMPANY),
    # Personal finance outside securities.
    ("信用卡分期怎么还", OTHER_FINANCE), ("能借我点钱吗", OTHER_FINANCE), ("房贷要不要提前还", OTHER_FINANCE),
    ("车贷利息多少", OTHER_FINANCE), ("网贷逾期了怎么办", OTHER_FINANCE), ("车险理赔流程", OTHER_FINANCE),
    ("社保断缴有影响吗", OTHER_FINANCE), ("公积金怎么提取", OTHER_FINANCE), ("工资个税怎么算的", OTHER_FINANCE),
    # markets and products the library does not cover, even with a securities word in the message
    ("期货账户怎么开", OTHER_FINANCE), ("私募基金怎么买", OTHER_FINANCE), ("能买美股吗", OTHER_FINANCE),
    ("美元理财有吗", OTHER_FINANCE), ("贵金属交易怎么开通", OTHER_FINANCE),
    # venting about the service; the client's own level or request; how long until a loss is made up
    ("转账老是失败，你们系统到底行不行啊", COMPLAINT), ("转账慢死了 什么破系统", COMPLAINT),
    ("开户审核那么慢 别家当天就好了 吐了", COMPLAINT), ("门槛定这么高，分明是看不起我们小散户", COMPLAINT),
    ("我的风险等级现在是C几啊", ACCOUNT_OPERATION), ("我前天交的开户申请审核通过了没", ACCOUNT_OPERATION),
    ("沪深300什么时候能回到四千点", MARKET_PREDICTION), ("还要等多久才能解套", MARKET_PREDICTION),
    ("转账老是失败，你们系统能不能靠谱点", COMPLAINT), ("上周提交的销户申请办好了没有", ACCOUNT_OPERATION),
    ("我这个ST的股票要不要赶紧卖掉 还是等它摘帽", STOCK_PICK), ("想给老伴买个重疾险 七十岁了还能买吗", OTHER_FINANCE),
    ("退休金每年涨多少", OTHER_FINANCE), ("我爸不会用手机，你帮我把他的密码重置一下", ACCOUNT_OPERATION),
    ("是开盘就卖还是多拿几天？你建议我怎么操作？", STOCK_PICK), ("手续费比别家贵那么多 凭什么", COMPLAINT),
])
def test_must_go_to_a_person(text, intent):
    assert classify_intent(text) == intent


@pytest.mark.parametrize("text", ["涨跌幅限制是多少", "怎么撤单", "被骗了怎么办", "收费荐股合法吗",
                                  "家里人能帮我操作账户吗", "创业板怎么开通", "", "撤单要收费吗", "资金密码怎么改",
                                  "新股上市首日涨跌幅限制", "新股上市第一天能卖吗", "逆回购利率怎么看",
                                  "债基为什么会跌", "现金分红和红利再投哪个好", "能不能帮我调低手续费",
                                  "有人说是你们公司的，拉我进了个荐股群", "小股东怎么维权", "最近能低佣开户吗",
                                  "打新是不是稳赚不赔", "买港股用人民币还是港币", "保证金比例降到80%什么意思",
                                  "我儿子能帮我把钱转出来吗", "分红什么时候到账",
                                  # how to find one's own data is the library's
                                  "我的资金账号是多少", "我的风险等级不够能买吗", "我的账户被锁了怎么办",
                                  "我中签了吗", "怎么查中签了没有", "没做过期货能开期权吗", "C4是什么风险等级",
                                  "我的风险等级是什么意思",
                                  # rules, legality and risk are questions, not picks or predictions
                                  "没资质的人收费推荐股票算违法吗", "担保比例跌到多少会被强平",
                                  "哪种基金风险最大", "收益最高的逆回购怎么算利息",
                                  # securities questions that mention other finance are left to the library
                                  "信用卡能转账到证券账户吗", "借钱炒股有什么风险", "工资卡能绑股票账户吗",
                                  "股息红利个税怎么扣", "个人养老金能抵个税吗",
                                  # a price limit, an automatic order, an errand and a rights question
                                  "可转债上市第一天最多能涨多少", "能不能设好股价跌到多少就自动帮我卖掉，在哪里设置",
                                  "休眠账户激活要不要跑营业部", "小散也算股东吗 被坑了咋维权",
                                  "我自己的佣金费率是多少，在app哪里能看到", "销户申请提交后多久能办好",
                                  "我们这种靠退休金过日子的人具体怎么个分散法", "让我爸帮我操作账户买卖 行不行",
                                  "我买的债券基金这个月居然亏了，搞什么"])
def test_business_questions_are_not_handoff_intents(text):
    assert classify_intent(text) is None


def test_no_starter_pack_phrasing_is_taken_for_a_handoff_or_small_talk():
    records, _ = read_records(STARTER_PACK_DIR)
    hits = [(data.slug, q, classify_intent(q)) for _, data in records if data.kind != "script"
            for q in [data.title, *data.questions] if classify_intent(q) or is_small_talk(q)]
    assert hits == []


def test_no_labelled_eval_query_is_taken_for_a_handoff_or_small_talk():
    hits = []
    for path in sorted((PACKAGE_DIR / "eval").glob("*.json")):
        for query in json.loads(path.read_text(encoding="utf-8"))["queries"]:
            if query["id"] is not None and (classify_intent(query["q"]) or is_small_talk(query["q"])):
                hits.append((path.name, query["q"]))
    assert hits == []


@pytest.mark.parametrize("text, expected", [("你好", True), ("在吗？", True), ("谢谢啊", True),
                                            ("今天天气怎么样", True), ("你好，怎么开户", False),
                                            ("谢谢啊，辛苦了", True), ("中午好呀 吃了没", True),
                                            # emoji are dropped before the check
                                            ("收到👌", True), ("好的👍🏻", True), ("早上好☀️", True), ("🙏🙏", True),
                                            ("开户要带什么😊", False), ("了解", True), ("在不", True),
                                            ("了解一下创业板", False)])
def test_small_talk(text, expected):
    assert is_small_talk(text) is expected


@pytest.fixture(scope="module")
def pack_index():
    """A lexical index over the starter pack (titles, phrasings and bodies), as the matcher builds it."""
    from content.index import Document, SearchIndex

    records, _ = read_records(STARTER_PACK_DIR)
    tokenizer = Tokenizer()
    docs = [Document(n, n, data.slug, data.kind, data.title, data.body, tuple(data.questions))
            for n, (_, data) in enumerate(records)]
    index = SearchIndex(docs, [[tokenizer.tokens(p) for p in d.passages()] for d in docs],
                        body_tokens=[tokenizer.tokens(d.body) for d in docs])
    return tokenizer, index


@pytest.mark.parametrize("typed, meant", [
    ("窗业板要多少资产才能开", "创业板要多少资产才能开"), ("什么样的账户会被算成修眠账户", "什么样的账户会被算成休眠账户"),
    ("交易蜜码忘了登不上去了", "交易密码忘了登不上去了"), ("我买的那只股票突然停排了", "我买的那只股票突然停牌了"),
    ("国债逆回够怎么买", "国债逆回购怎么买"), ("陪股是啥", "配股是啥"), ("风险侧评在哪做", "风险测评在哪做"),
])
def test_words_typed_by_sound_are_respelled_as_the_library_writes_them(pack_index, typed, meant):
    tokenizer, index = pack_index
    assert tokenizer.respell(typed, index) == meant


@pytest.mark.parametrize("text", [
    # ordinary wording whose every character pair the library uses, everyday words, sounds only alike when fuzzy
    "港股通里的股票现在能买吗", "可转债中一签要交多少钱", "能用老公的卡往我账户转钱吗", "基金跟股票有啥区别 完全不懂",
    "融资的利息年化多少", "收不收申购费", "今天天气不错，我想问一下时间",
])
def test_ordinary_wording_is_left_as_typed(pack_index, text):
    tokenizer, index = pack_index
    assert tokenizer.respell(text, index) == text
