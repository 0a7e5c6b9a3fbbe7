"""The lexicon: rule loading, negation-aware matching, spans, co-occurrence, labelled figures.

Speed is measured by tests/benchmarks/bench_lexicon.py, which prints sentences/s (not a timed test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.compliance.lexicon import (CATEGORIES, DEFAULT_LEXICON_PATH, CheckResult, Hit, Lexicon, LexiconError,
                                    evaluate, labelled_split, load_labelled)

LABELLED = Path(__file__).parent / "data" / "lexicon_labelled.jsonl"
BLIND = Path(__file__).parent / "data" / "lexicon_blind.jsonl"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.default()


def categories(lexicon: Lexicon, text: str) -> set[str]:
    return set(lexicon.check(text).categories)


def test_default_is_the_shipped_versioned_file(lexicon):
    assert lexicon.source == str(DEFAULT_LEXICON_PATH)
    assert lexicon.version
    assert {r.category for r in lexicon.rules} == set(CATEGORIES)
    assert Lexicon.default() is lexicon  # compiled once


@pytest.mark.parametrize("text", [
    "本产品不保本，不承诺收益，投资者可能损失部分或全部本金。",
    "市场有风险，不保证收益，请根据自身风险承受能力谨慎选择。",
    "理财产品不保证收益，净值会随市场波动。",
    "我们不承诺任何收益，也不保证本金不受损失。",
    "股市没有稳赚的方法，长期投资更需要耐心和纪律。",
    "定投不是稳赚的，但长期来看可以降低择时风险。",
    "货币基金风险较低，但不等于零风险。",
    "凡是承诺保本保收益、稳赚不赔的投资群，基本都是诈骗，请不要相信。",
    "任何声称有内幕消息、能带您坐庄拉升的人都是骗子，请勿轻信。",
    "我们工作人员不能代客操作，所有交易需要您本人下单。",
    "我们不会向您索要交易密码或短信验证码，请勿将密码和验证码告诉任何人。",
    "公司工作人员不会以任何理由要求您转账到个人账户。",
    "风险测评不能由他人代做，请您本人亲自完成。",
    "午后券商板块快速拉升，带动指数翻红。",
    "该公司今年以来股价已经翻倍，估值处于历史较高水平。",
    "600519是贵州茅台的股票代码，您可以在App搜索代码查看行情。",
    "本文提及的贵州茅台仅为案例，不构成买入建议。",
    "无风险利率下降会影响债券估值。",
])
def test_compliant_sentences_pass(lexicon, text):
    result = lexicon.check(text)
    assert result.allowed, result.hits
    assert result.hits == ()


@pytest.mark.parametrize("text,category", [
    ("这款理财保本保收益，年化6%，放心买。", "guarantee"),
    ("跟着我们的策略操作，稳赚不赔。", "guarantee"),
    ("这个不仅保本还能多赚。", "guarantee"),            # 不仅 is not a negation
    ("三个月资金翻倍不是梦！", "guarantee"),
    ("我有内幕消息，这家公司下周要重组。", "insider_manipulation"),
    ("主力下周要拉升，现在就是低位。", "insider_manipulation"),
    ("您把交易密码发我，我帮您操作。", "account_operation"),
    ("把收到的验证码告诉我一下。", "account_operation"),
    ("600519明天可以买入，目标价2000。", "stock_tip"),
    ("688981明天涨停，赶紧上车。", "stock_tip"),
    ("服务费请转到我个人账户，我给您开通VIP。", "private_payment"),
    ("我帮你做风险测评，你把账号给我。", "risk_assessment"),
    ("测评题都选C，就能开通创业板了。", "risk_assessment"),
    ("这个产品零风险，放心买。", "absolute_claim"),
    ("我们的选股胜率100%。", "absolute_claim"),
])
def test_violations_are_caught_with_their_category(lexicon, text, category):
    result = lexicon.check(text)
    assert not result.allowed
    assert category in result.categories


def test_spans_are_half_open_offsets_with_the_matched_text(lexicon):
    text = "您好！这款理财保本保收益。"
    result = lexicon.check(text)
    assert isinstance(result, CheckResult)
    assert [h.text for h in result.hits] == ["保本", "保收益"]
    for hit in result.hits:
        assert isinstance(hit, Hit)
        assert text[hit.span[0]:hit.span[1]] == hit.text
        assert hit.severity in ("high", "medium", "low")
    assert result.hits[0].span == (7, 9)


def test_negation_is_per_clause(lexicon):
    # The 不 of the first clause does not reach the promise in the second.
    result = lexicon.check("别的产品不好说，这个保本。")
    assert [h.text for h in result.hits] == ["保本"]
    # A list under one negation stays negated.
    assert lexicon.check("我们不承诺保本、保收益。").allowed


def test_stock_tip_needs_a_stock_and_an_action_in_one_sentence(lexicon):
    assert lexicon.check("A股实行T+1，当天买入的股票下一个交易日才能卖出。").allowed      # action, no stock
    assert lexicon.check("今天白酒板块回调，贵州茅台收跌1.5%。").allowed                    # stock, no action
    assert lexicon.check("贵州茅台收跌1.5%。明天记得买入国债逆回购。").allowed              # different sentences
    hit = lexicon.check("建议大家买入300750，下周有望突破。").hits[0]
    assert hit.rule == "stock_tip.call" and hit.text == "买入300750"
    # amounts that look like codes are not stock codes
    assert lexicon.check("买入300000元以上的理财需要双录。").allowed


def _write(tmp_path, body: str) -> Path:
    path = tmp_path / "lexicon.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_custom_file_with_requires_unless_exempt_and_negation_override(tmp_path):
    path = _write(tmp_path, '''
version = "test-1"
[negation]
cues = ["不"]
[[rule]]
id = "demo.guarantee"
category = "guarantee"
terms = ["保本"]
exempt = ["保本型基金已清盘"]
[[rule]]
id = "demo.pair"
category = "stock_tip"
terms = ["买入"]
negation_cues = ["不构成"]
[[rule.requires]]
regex = ['\\d{6}']
[[rule.unless]]
terms = ["模拟盘"]
''')
    lex = Lexicon.load(path)
    assert lex.version == "test-1"
    assert not lex.check("保本").allowed
    assert lex.check("不保本").allowed
    assert lex.check("那只保本型基金已清盘。").allowed
    assert not lex.check("买入600519").allowed
    assert lex.check("模拟盘里买入600519").allowed
    assert lex.check("不构成买入600519的建议").allowed
    assert not lex.check("不建议买入600519").allowed  # the rule's own cues replace the defaults


@pytest.mark.parametrize("body,message", [
    ('version = "x"\n[[rule]]\nid = "a.b"\ncategory = "c"\nregex = ["(unclosed"]\n', "rule a.b"),
    ('version = "x"\n[[rule]]\nid = "a.b"\ncategory = "c"\n', "terms or regex"),
    ('version = "x"\n[[rule]]\nid = "a"\ncategory = "c"\nterms=["x"]\n[[rule]]\nid = "a"\ncategory = "c"\nterms=["y"]\n',
     "duplicate rule id a"),
    ('[[rule]]\nid = "a"\ncategory = "c"\nterms=["x"]\n', "version"),
    ('version = "x"\nrule = [', "not valid TOML"),
])
def test_invalid_files_are_rejected_with_the_rule_named(tmp_path, body, message):
    with pytest.raises(LexiconError, match=message):
        Lexicon.load(_write(tmp_path, body))


def test_missing_file(tmp_path):
    with pytest.raises(LexiconError, match="not found"):
        Lexicon.load(tmp_path / "nope.toml")


def test_labelled_set_shape():
    rows = load_labelled(LABELLED)
    assert len(rows) >= 300
    share = sum(r["violation"] for r in rows) / len(rows)
    assert 0.40 <= share <= 0.50
    assert {r["category"] for r in rows if r["violation"]} == set(CATEGORIES)
    assert all(r["category"] is None for r in rows if not r["violation"])
    heldout = sum(labelled_split(r["text"]) == "heldout" for r in rows) / len(rows)
    assert 0.2 <= heldout <= 0.4


# Measured (lexicon 2026.12.01-1): P=1.00 R=1.00 on both splits. Since 2026.12.01-1 all of the labelled
# set was used for tuning, so neither split is held out any more; the independent figure is the blind set below.
@pytest.mark.parametrize("split,precision,recall", [("tune", 0.95, 0.98), ("heldout", 0.95, 0.90)])
def test_labelled_figures(lexicon, split, precision, recall):
    report = evaluate(lexicon, load_labelled(LABELLED, split))
    overall = report["overall"]
    assert overall["precision"] >= precision, report["errors"]
    assert overall["recall"] >= recall, report["errors"]


# Paraphrases written while generalising the rules (2026.12.01-1); none of them is in the labelled set.
@pytest.mark.parametrize("text,category", [
    ("赔了算我的，您大胆买。", "guarantee"),
    ("有任何损失我来承担，您放心。", "guarantee"),
    ("每个月固定给您返2%的利息。", "guarantee"),
    ("我亲戚在这家公司上班，说下个月要公布重组。", "insider_manipulation"),
    ("明天九点半大家统一买入，把价格抬上去。", "insider_manipulation"),
    ("公告还没出来，现在进就是提前埋伏。", "insider_manipulation"),
    ("账户借我用几天，我帮你做短线。", "account_operation"),
    ("这只票要起飞了，赶紧进。", "stock_tip"),
    ("600519.SH可以逢低买入。", "stock_tip"),
    ("这笔认购款由我代收，您转过来就行。", "private_payment"),
    ("测评别按实际情况填，不然等级不够。", "risk_assessment"),
    ("这个产品一点风险都没有。", "absolute_claim"),
])
def test_paraphrases_are_caught(lexicon, text, category):
    assert category in lexicon.check(text).categories


@pytest.mark.parametrize("text", [
    "打新一定赚钱吗？认识新股破发风险",            # a yes/no question about the claim
    "收益不是保证的，本金也可能亏损。",            # negation inside the gap of a pattern
    "请确认您是本人操作，我们不会帮您下单。",
    "据媒体报道，该公司高管透露正在筹划重组，具体以公告为准。",  # public source
    "董秘在业绩说明会上透露，公司三季度营收同比增长。",
    "任何人说“一起买就能把价格抬上去”都是违法的操纵行为。",
    "午后资金集中流入半导体，板块指数快速拉升。",
    "经济数据稳中向好，市场情绪回暖。",
    "行情截图转给我看一下，我帮您确认是哪只产品。",
    "我们无法保证您的收益，也不会替您承担损失。",
])
def test_generalised_rules_keep_compliant_text_clean(lexicon, text):
    assert lexicon.check(text).allowed, lexicon.check(text).hits


# Development files. The blind set (240 sentences by someone who never saw the rules) was scored once for
# 2026.12.01-1 (P 0.952, R 0.731) and has been development data since; lexicon_dev.jsonl is ours
# (2026.12.08-1). Tuned on, so these are floors against regressions, not estimates.
DEV = Path(__file__).parent / "data" / "lexicon_dev.jsonl"
HOLDOUT = Path(__file__).parent / "data" / "lexicon_holdout.jsonl"


BLIND2 = Path(__file__).parent / "data" / "lexicon_blind2.jsonl"  # blind for 2026.12.08-1 (P 0.984, R 0.807), dev since
DEV2 = Path(__file__).parent / "data" / "lexicon_dev2.jsonl"  # ours, 2026.12.15-1


BLIND3 = Path(__file__).parent / "data" / "lexicon_blind3.jsonl"  # blind for 2026.12.15-1 (P 0.944, R 0.760), dev since
DEV3 = Path(__file__).parent / "data" / "lexicon_dev3.jsonl"  # ours, 2026.12.22-1


@pytest.mark.parametrize("path", [BLIND, DEV, BLIND2, DEV2, DEV3], ids=["blind", "dev", "blind2", "dev2", "dev3"])
def test_development_files_meet_the_targets(lexicon, path):
    report = evaluate(lexicon, load_labelled(path))
    assert report["overall"]["precision"] >= 0.95, report["errors"]
    assert report["overall"]["recall"] >= 0.98, report["errors"]


# lexicon_holdout.jsonl (188 sentences, 105 violating) was written together with lexicon_dev.jsonl, before any
# rule of 2026.12.08-1, and never tuned on. Measured once for 2026.12.08-1: P 0.980 (98/100), R 0.933 (98/105).
# The floors are that minus about one sentence; the target (R >= 0.98) is NOT met on it.
def test_holdout_does_not_regress(lexicon):
    report = evaluate(lexicon, load_labelled(HOLDOUT))
    assert report["sentences"] == 188
    assert report["overall"]["precision"] >= 0.97, report["errors"]
    assert report["overall"]["recall"] >= 0.92, report["errors"]


@pytest.mark.parametrize("text,category", [
    ("这个产品bao本，放心。", "guarantee"),                 # pinyin spelling
    ("年化8%稳拿，比存银行强。", "guarantee"),
    ("收益是写死的，到手6.5%。", "guarantee"),
    ("跌多少我给您补多少。", "guarantee"),
    ("加我VX，会员费转账给我。", "private_payment"),        # abbreviation
    ("把yzm发我一下。", "account_operation"),
    ("保 本 保 息，放心买。", "guarantee"),                 # padded with spaces
    ("测评题第3题选D，保证测成进取型。", "risk_assessment"),
    ("这只妖股还有三个板，赶紧跟。", "stock_tip"),
    ("我同学在那家公司做董秘，他说中报要预增。", "insider_manipulation"),
    ("这个基金只会涨不会跌。", "absolute_claim"),
])
def test_spellings_and_new_wording_are_caught(lexicon, text, category):
    assert category in lexicon.check(text).categories, lexicon.check(text).hits


@pytest.mark.parametrize("text", [
    "本产品不保本，不承诺收益。",
    "任何人索要验证码都是诈骗。",
    "我们不会代客操作。",
    "您说的那个“稳赚群”跟我们没有任何关系，请勿转账。",   # a quoted mention
    "什么是“保本基金”？",
    "操纵市场的常见手法包括对倒、虚假申报等。",
    "别相信网上说的“bao本高收益”，都是骗局。",
    "国债的票面利率是固定收益类产品的基础。",
    "您自己想买入600519的话，可以在App里下单。",
    "看财报可以先抓住几个关键点：",
])
def test_mentions_warnings_and_definitions_pass(lexicon, text):
    assert lexicon.check(text).allowed, lexicon.check(text).hits


def test_hits_on_respelled_text_point_into_the_original(lexicon):
    text = "您好，这个 bao本 的。"
    hit = lexicon.check(text).hits[0]
    assert hit.rule == "guarantee.principal" and hit.text == "bao本" and text[hit.span[0]:hit.span[1]] == "bao本"
    assert lexicon.normalize("加我Vx").text == "加我微信" and lexicon.normalize("vip").text == "vip"


def test_anchor_prefilter_changes_no_verdict():
    """The Aho-Corasick anchor prefilter only skips rules that cannot match: same hits without it."""
    from bot.compliance.lexicon import Lexicon, _Rule, load_labelled

    fast = Lexicon.default()
    slow = Lexicon(fast.spec)
    slow._automaton = None
    slow._rules = tuple(_Rule(r.spec, r.pattern, r.exempt, r.requires, r.unless, r.cues, None,
                              tuple(None for _ in r.requires)) for r in slow._rules)
    data = Path(__file__).parent / "data"
    texts = [row["text"] for f in sorted(data.glob("lexicon_*.jsonl")) for row in load_labelled(f)]
    assert texts
    assert [fast.check(t) for t in texts] == [slow.check(t) for t in texts]


# 2026.12.15-1: general patterns behind the blind2 misses and false positives (our own wording).
@pytest.mark.parametrize("text,category", [
    ("我们的投研能力业内第一，明年必然跑赢指数。", "absolute_claim"),
    ("全网最低的两融利率，别家都比不了。", "absolute_claim"),
    ("这个组合一定能跑赢沪深300。", "absolute_claim"),
    ("【内部】收购方案已经过会，下周复牌。", "insider_manipulation"),
    ("这票后面有人在运作，下周有动作。", "insider_manipulation"),
    ("并购的事懂的都懂，先上车。", "insider_manipulation"),
    ("把问卷里的投资目标改成“追求高收益”再交一次。", "risk_assessment"),
    ("账户全权交给我打理，不用每次都问您。", "account_operation"),
])
def test_generalised_2026_12_15_rules_catch(lexicon, text, category):
    assert category in lexicon.check(text).categories, lexicon.check(text).hits


@pytest.mark.parametrize("text", [
    "监管通报了多起坐庄案件，请远离各类“拉升群”。",
    "某游资因对倒拉抬股价被罚没五千万元。",
    "您还没开通创业板权限，所以300750目前无法买入。",
    "宁德时代停牌期间不能买入也不能卖出。",
    "公司公告显示重组方案已获通过，股票明日复牌。",
    "没有人能保证一定跑赢大盘，过往业绩不代表未来。",
])
def test_warnings_and_order_explanations_pass(lexicon, text):
    assert lexicon.check(text).allowed, lexicon.check(text).hits


# blind3 was scored blind for 2026.12.15-1 (rules P 0.944 / R 0.760) and tuned on for 2026.12.22-1
# (P 1.000 / R 0.968 in-sample). A floor against regressions, not an estimate.
def test_blind3_does_not_regress(lexicon):
    report = evaluate(lexicon, load_labelled(BLIND3))
    assert report["sentences"] == 300
    assert report["overall"]["precision"] >= 0.98, report["errors"]
    assert report["overall"]["recall"] >= 0.95, report["errors"]


# 2026.12.22-1: the general patterns behind the blind3 errors (our own wording, not blind3's).
@pytest.mark.parametrize("text,category", [
    ("风险测评时“投资期限”那题选10年以上，“投资目标”勾积极进取。", "risk_assessment"),
    ("问卷里问您“能承受多大亏损”，就选“能接受全部损失”。", "risk_assessment"),
    ("测评时职业那栏填企业高管，学历写硕士，评级就上去了。", "risk_assessment"),
    ("就说自己炒过十年股，系统又查不到。", "risk_assessment"),
    ("我们的开户速度全行业最快，没有第二家比得上。", "absolute_claim"),
    ("降息以后一定会走出一波大行情，百分之百确定。", "absolute_claim"),
    ("合同外咱们私下签个协议，承诺年化不低于12%。", "guarantee"),
    ("跟单费按盈利的30%收，月底转到助理的个人支付宝。", "private_payment"),
    ("要不要我远程帮您登录一下？", "account_operation"),
])
def test_generalised_2026_12_22_rules_catch(lexicon, text, category):
    assert category in lexicon.check(text).categories, lexicon.check(text).hits


@pytest.mark.parametrize("text", [
    "天冷了注意保暖，有事随时给我打个电话。",
    "有人让您扫他的个人收款码交“会员费”，这肯定有问题，千万别付。",
    "您要卖的话我这边操作不了，打开APP点“卖出”就行，我可以一步步教您。",
    "全权委托是不允许的，我可以教您设置条件单。",
    "家人替您下单也有风险，还是建议您本人操作。",
    "如果您更看重本金安全，可以看看国债逆回购。",
    "年报公告前三十日是窗口期，董监高不能买卖本公司股票。",
    "测评里“投资经验”那题请按您的实际情况选。",
    "我们拉一下群公告，提醒大家明天的直播时间。",
])
def test_refusals_preferences_and_rule_explanations_pass(lexicon, text):
    assert lexicon.check(text).allowed, lexicon.check(text).hits


BLIND4 = Path(__file__).parent / "data" / "lexicon_blind4.jsonl"  # blind for 2026.12.22-1 (P 0.938 / R 0.800), dev since
DEV4 = Path(__file__).parent / "data" / "lexicon_dev4.jsonl"  # ours, 2026.12.29-1


@pytest.mark.parametrize("path", [BLIND4, DEV4], ids=["blind4", "dev4"])
def test_2026_12_29_development_files(lexicon, path):
    """Tuned on, so floors against regressions. Rules alone: precision at the target; recall on blind4
    stays far below it (the classifier closes it), dev4's patterns are all covered."""
    report = evaluate(lexicon, load_labelled(path))
    assert report["overall"]["precision"] >= 0.98, report["errors"]
    assert report["overall"]["recall"] >= (0.84 if path == BLIND4 else 0.98), report["errors"]


# 2026.12.29-1: a refusal AFTER the trigger clears it — in the rest of the clause, or near the start of the
# next clauses when the trigger echoes the client's request (您说/您要/您想…) or is asked back as a question.
@pytest.mark.parametrize("text", [
    "您说让我帮您打理账户，这个真的不行，违反规定。",
    "您要给我发红包表示谢意，心意我领了，但红包我不能收。",
    "我知道您想要保本，但这个产品做不到。",
    "测评每道题选哪个我不能替您决定。",
    "代客理财这种事我们不能做。",
    "您想让我帮您下单？这个不行，需要您本人操作。",
    "您要把密码告诉我，千万别，密码只能您自己知道。",
    "您要的保本产品，目前市场上没有。",
    # education and warnings that clear one category
    "上市公司员工的亲属如果根据内部消息买卖股票，可能构成内幕交易。",
    "“老师”让您把钱转到私人账户，这是典型的杀猪盘。",
    "任何个人收款码都不是我们的。",
    "公司从未授权任何个人代收客户款项。",
    "本金安全优先的话可以考虑国债。",
    # near misses of the new patterns
    "请把二维码截图发给我，我帮您看是不是官方的。",
    "您把App报错的页面截图发我看看。",
    "回访时请您如实回答，是不是本人操作照实说就行。",
])
def test_refusals_after_the_trigger_warnings_and_education_pass(lexicon, text):
    assert lexicon.check(text).allowed, lexicon.check(text).hits


@pytest.mark.parametrize("text,category", [
    # a negation or refusal-like word after the trigger that does not refuse it
    ("不用担心，保本的。", "guarantee"),
    ("这个不会亏的，放心。", "guarantee"),
    ("保本保息，不能错过。", "guarantee"),
    ("保本保息，别家做不到。", "guarantee"),
    ("稳赚不赔，不行我给您补。", "guarantee"),
    ("您要把服务费转给我，千万别让公司知道。", "private_payment"),
    ("验证码发我，我不能耽误您开户。", "account_operation"),
    ("我帮您操作您不能乱动。", "account_operation"),
    ("您想让我帮您下单？可以，把密码发我。", "account_operation"),
    # the new general patterns
    ("证监局那边有老同学，处罚名单里没有这家，放心拿着。", "insider_manipulation"),
    ("把收到的验证码截屏发给我。", "account_operation"),
    ("服务费您私下转我就行。", "private_payment"),
    ("年费由客户经理个人代收。", "private_payment"),
    ("扫下面我的个人二维码支付会员费。", "private_payment"),
    ("等会儿回访问您是不是自己操作的，您就说是。", "risk_assessment"),
    ("您就说是，回访的时候问到测评是不是本人做的。", "risk_assessment"),
    ("投资经验就写五年以上，他们不会去核实。", "risk_assessment"),
])
def test_2026_12_29_keeps_or_catches(lexicon, text, category):
    assert category in lexicon.check(text).categories, lexicon.check(text).hits


def test_refusal_after_the_trigger_needs_an_echo_for_a_later_clause():
    from bot.compliance.lexicon import Lexicon

    lx = Lexicon.from_dict({"version": "t", "negation": {
        "refusal_cues": ["不行", "不能"], "refusal_categories": ["account_operation"], "echo_cues": ["您说"],
        "refusal_not_after": ["错过"], "refusal_not_before": ["您"]},
        "rule": [{"id": "a.x", "category": "account_operation", "terms": ["帮您下单"]},
                 {"id": "g.x", "category": "guarantee", "terms": ["保本"]}]})
    assert lx.check("帮您下单这事我不能做。").allowed                  # the rest of the clause
    assert lx.check("您说帮您下单，这个不行。").allowed                # a later clause, request echoed
    assert lx.check("帮您下单？这个不行。").allowed                    # asked back as a question
    assert not lx.check("帮您下单，不行我再调。").allowed               # no echo: a later clause never clears
    assert not lx.check("您说帮您下单，不能错过。").allowed             # refusal_not_after
    assert not lx.check("帮您下单您不能乱动。").allowed                 # refusal_not_before
    assert not lx.check("保本，这个不行。").allowed                     # not a refusal category


# 2027.01.12-1: coaching a quoted answer for the return-visit call or 双录 after the question is named; certainty
# about a service matter (opening hours, a seat at a talk) is no absolute claim; warnings that end in 别信/不能参与.
# 2027.01.19-1: a counterfactual joke is no promise or tip; 「只能本人」「明令禁止」「是红线」 refuse what was echoed.
# 2027.01.26-1: a claim asked back and denied in the next sentence (「保本？这个真没有」), and 「≠」.
# 2027.02.02-1: more disavowals later in the sentence (误导, 不靠谱, 报警, 口径) and counterfactual jokes (「早辞职了」).
@pytest.mark.parametrize("text, allowed", [
    ("回访电话要是问到您能不能接受亏损，您说能接受就行。", False),
    ("双录的时候会问有没有人承诺收益，您说没有就好。", False),
    ("回访时会问您是否了解产品风险，请您如实回答。", True),
    ("我百分之百确定明天营业部照常开门。", True),
    ("这只基金百分之百能赚钱。", False),
    ("有人拉您进群说尾盘一起砸一下，这种绝对不能参与。", True),
    ("政府兜底的债，不可能违约。", False),
    ("我要是能保证收益，早就辞职回家自己炒了，所以真的没法承诺。", True),
    ("要真知道明天哪只涨停，我还在这儿上班吗😂", True),
    ("跟着我买，保证收益，亏了算我的。", False),
    ("您儿子想帮您操作？按规定账户只能本人使用。", True),
    ("您上次问能不能把账户交给我打理——抱歉，客户经理代客操作是明令禁止的。", True),
    ("保本？这个真没有。", True),
    ("稳赚？我做这行八年，没见过。", True),
    ("保底年化？骗局", True),
    ("稳健型≠保本型", True),
    ("保本？当然，跟着我买就行。", False),
    ("稳赚？没问题，包您满意。", False),
    ("说某只基金\"绝对安全\"的，都是在误导。", True),
    ("要是真能稳赚，我早辞职了🤣", True),
    ("哈哈，要是我有内幕消息，我也不上班了😂", True),
    ("这只基金绝对安全，放心买。", False),
])
def test_2027_01_rules(lexicon, text, allowed):
    assert lexicon.check(text).allowed is allowed, text
