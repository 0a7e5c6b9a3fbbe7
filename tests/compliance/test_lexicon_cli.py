"""`advisor-bot compliance check` and `lexicon-eval`: output shape, files, settings, no database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import CliState
from bot.compliance.cli import compliance


def run(*args, obj=None, input=None):
    result = CliRunner().invoke(compliance, list(args), obj=obj, input=input, catch_exceptions=False)
    return result


def test_check_one_sentence_prints_one_json_line():
    result = run("check", "600519明天可以买入，目标价2000。")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 1
    assert "明天" in lines[0]  # ensure_ascii=False
    obj = json.loads(lines[0])
    assert set(obj) == {"text", "allowed", "hits"}
    assert obj["allowed"] is False
    assert obj["hits"][0] == {"rule": "stock_tip.call", "category": "stock_tip", "span": [0, 16]}
    assert set(obj["hits"][0]) == {"rule", "category", "span"}


def test_check_file_one_object_per_nonblank_line(tmp_path):
    path = tmp_path / "msgs.txt"
    path.write_text("本产品不保本，不承诺收益。\n\n稳赚不赔，快上车！\r\n您好\n", encoding="utf-8")
    result = run("check", "--file", str(path))
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["text"] for r in rows] == ["本产品不保本，不承诺收益。", "稳赚不赔，快上车！", "您好"]
    assert [r["allowed"] for r in rows] == [True, False, True]
    assert rows[1]["hits"][0]["span"] == [0, 4]


def test_check_reads_stdin_and_needs_exactly_one_input():
    assert json.loads(run("check", "--file", "-", input="零风险\n").output)["allowed"] is False
    assert run("check").exit_code == 2
    assert run("check", "x", "--file", "-").exit_code == 2


def test_check_uses_the_lexicon_from_settings_without_a_database(tmp_path):
    lexicon = tmp_path / "lex.toml"
    lexicon.write_text('version = "t"\n[[rule]]\nid = "t.word"\ncategory = "guarantee"\nterms = ["你好"]\n',
                       encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "postgresql://nobody@127.0.0.1:1/none"\n'
                      f'[compliance]\nlexicon_path = "{lexicon}"\n', encoding="utf-8")
    result = run("check", "你好", obj=CliState(str(config)))
    assert json.loads(result.output)["hits"][0]["rule"] == "t.word"
    # --lexicon wins over settings
    assert json.loads(run("check", "你好", "--lexicon", str(lexicon)).output)["allowed"] is False


def test_bad_lexicon_is_a_clean_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('version = "x"\n[[rule]]\nid = "a.b"\ncategory = "c"\nregex = ["("]\n', encoding="utf-8")
    result = CliRunner().invoke(compliance, ["check", "x", "--lexicon", str(bad)])
    assert result.exit_code == 1 and "rule a.b" in result.output


@pytest.mark.parametrize("split", ["all", "tune", "heldout"])
def test_lexicon_eval_prints_overall_and_per_category(split):
    result = run("lexicon-eval", "--split", split)
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["split"] == split and report["sentences"] > 0
    assert set(report["overall"]) >= {"precision", "recall", "f1"}
    assert set(report["categories"]) >= {"guarantee", "stock_tip", "private_payment", "risk_assessment",
                                         "account_operation", "insider_manipulation", "absolute_claim"}
    assert "errors" not in report


def test_lexicon_eval_on_a_given_file(tmp_path):
    path = tmp_path / "mini.jsonl"
    rows = [{"text": "保本保收益", "violation": True, "category": "guarantee"},
            {"text": "不保本", "violation": False, "category": None},
            {"text": "这个可以放心", "violation": True, "category": "guarantee"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = json.loads(run("lexicon-eval", str(path), "--errors").output)
    assert report["overall"]["precision"] == 1.0 and report["overall"]["recall"] == 0.5
    assert report["categories"]["guarantee"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667,
                                                 "tp": 1, "fp": 0, "fn": 1}
    assert [e["text"] for e in report["errors"]] == ["这个可以放心"]
