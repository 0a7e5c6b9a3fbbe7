import pytest

from bot.contacts import directory
from bot.contacts.segments import SegmentError, parse
from tests.contacts.factories import crm_row, write_csv


@pytest.fixture
def tagged(runtime, tmp_path):
    rows = [crm_row("1", "wm_tail_silver", total_assets="20000", birth_year="1962"),
            crm_row("2", "wm_tail_young", total_assets="20000", birth_year="1999"),
            crm_row("3", "wm_dormant_silver", total_assets="50", securities_value="0", cash_balance="50",
                    last_trade_date="2020-01-01", birth_year="1960"),
            crm_row("4", "wm_rich_silver", total_assets="900000", birth_year="1958")]
    runtime.services.contacts.importer.import_file(write_csv(tmp_path / "crm.csv", rows))
    with runtime.session() as s:
        for eu in ("wm_tail_silver", "wm_tail_young", "wm_dormant_silver"):
            directory.follow_added(s, eu, "adv1", runtime.clock.now())
    runtime.services.contacts.recompute_tags()
    return runtime.services.contacts.segments


def test_and_not_or_parentheses(tagged):
    assert tagged.external_userids("长尾 AND NOT 休眠 AND 银发") == ["wm_tail_silver"]
    assert tagged.external_userids("长尾 and (Z世代 OR 休眠)") == ["wm_tail_young", "wm_dormant_silver"]
    assert tagged.external_userids("!长尾 | 资产层级:投顾", reachable_only=False) == ["wm_rich_silver"]
    assert tagged.count("银发") == 2  # wm_rich_silver has no WeCom owner
    assert tagged.count("银发", reachable_only=False) == 3
    assert tagged.by_owner("长尾 AND NOT 休眠") == {"adv1": ["wm_tail_silver", "wm_tail_young"]}


def test_group_name_form_and_quoting(tagged):
    assert tagged.count('"年龄段:初老银发" AND 风险等级:C3') == 2


@pytest.mark.parametrize("expr, message", [
    ("长尾 AND", "表达式末尾"), ("(长尾", "右括号"), ("长尾 银发", "多余"), ("", "为空"),
    ("长尾 AND 不存在的标签", "未知标签"), ("年龄段:不存在", "未知标签"), ("AND 长尾", "第 1 个字符"),
])
def test_errors_are_clear(tagged, expr, message):
    with pytest.raises(SegmentError, match=message):
        tagged.validate(expr)


def test_parse_precedence():
    node = parse("a OR b AND NOT c")
    assert node.op == "OR" and node.items[1].op == "AND"


def test_compiles_to_exists_sql(tagged, runtime):
    from bot.contacts.segments import compile_segment

    with runtime.session() as s:
        sql = str(compile_segment(s, "长尾 AND NOT 休眠"))
    assert sql.count("EXISTS") == 2 and "NOT (EXISTS" in sql


def test_select_segment_for_other_domains(tagged, runtime):
    query = runtime.services.contacts.select_segment("长尾 AND NOT 休眠")
    with runtime.session() as s:
        assert sorted(s.scalars(query)) == ["wm_tail_silver", "wm_tail_young"]
