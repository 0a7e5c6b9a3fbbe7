import json
from pathlib import Path

from click.testing import CliRunner

from content.cli import content
from content.importer import import_path, read_records
from content.settings import STARTER_PACK_DIR

GOOD_MD = """---
id: faq-good
kind: faq
title: 怎么开户？
questions: [手机能开户吗, 开户流程]
topics: [开户]
status: approved
auto_reply_allowed: true
---

在App中开户。
"""


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_starter_pack_is_valid_and_big_enough():
    records, problems = read_records(STARTER_PACK_DIR)
    assert problems == []
    assert len(records) >= 150
    kinds = {data.kind for _, data in records}
    assert kinds == {"faq", "article", "education", "video", "product_note", "script"}
    faqs = [data for _, data in records if data.kind == "faq"]
    assert len(faqs) >= 100 and all(len(f.questions) >= 4 for f in faqs)
    assert all(data.status == "approved" for _, data in records)


def test_import_is_idempotent(tmp_path, library):
    _write(tmp_path, "a.md", GOOD_MD)
    first = import_path(library, tmp_path, progress=False)
    assert (first.created, first.problems) == (1, [])
    generation = library.generation()
    again = import_path(library, tmp_path, progress=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert library.generation() == generation  # nothing written
    _write(tmp_path, "a.md", GOOD_MD.replace("在App中开户。", "在官方App中开户。"))
    changed = import_path(library, tmp_path, progress=False)
    assert changed.updated == 1
    versions = library.versions("faq-good")
    assert [v.status for v in versions] == ["retired", "approved"]


def test_bad_files_are_reported_with_file_and_field_and_not_imported(tmp_path, library):
    _write(tmp_path, "ok.md", GOOD_MD)
    _write(tmp_path, "sub/bad.md", GOOD_MD.replace("faq-good", "faq-bad").replace("kind: faq", "kind: faq\nrisk_level: R7"))
    _write(tmp_path, "broken.md", "---\nid: [unclosed\n---\nbody")
    _write(tmp_path, "items.csv", "id,kind,title,body,questions,status\n"
           "csv-ok,faq,如何转账？,在App转账。,怎么入金|钱怎么转进来,approved\n"
           "csv-bad,faq,,没有标题,,approved\n")
    _write(tmp_path, "items.json", json.dumps({"items": [
        {"id": "json-ok", "kind": "education", "title": "股票是什么", "body": "股票是所有权凭证。"},
        {"id": "json-bad", "kind": "video", "title": "视频", "body": "没有链接"}]}, ensure_ascii=False))
    report = import_path(library, tmp_path, progress=False)
    assert report.created == 3
    found = {(p.source, p.field) for p in report.problems}
    assert ("sub/bad.md", "risk_level") in found
    assert ("broken.md", "file") in found
    assert ("items.csv:3", "title") in found
    assert ("items.json[1]", "url") in found
    for slug in ("faq-bad", "csv-bad", "json-bad"):
        assert library.get_item(slug) is None


def test_strict_mode_imports_nothing(tmp_path, library):
    _write(tmp_path, "ok.md", GOOD_MD)
    _write(tmp_path, "bad.md", GOOD_MD.replace("faq-good", "faq-bad").replace("title: 怎么开户？\n", ""))
    report = import_path(library, tmp_path, strict=True, progress=False)
    assert report.created == 0 and library.count() == 0
    assert [(p.source, p.field) for p in report.problems] == [("bad.md", "title")]


def test_cli_import_list_show(tmp_path, make_runtime):
    from types import SimpleNamespace

    _write(tmp_path, "a.md", GOOD_MD)
    obj = SimpleNamespace(runtime=make_runtime())
    runner = CliRunner()
    result = runner.invoke(content, ["import", str(tmp_path), "--no-progress"], obj=obj)
    assert result.exit_code == 0, result.output
    assert "created 1" in result.output
    result = runner.invoke(content, ["list"], obj=obj)
    assert "faq-good" in result.output
    result = runner.invoke(content, ["show", "faq-good"], obj=obj)
    assert json.loads(result.output)["versions"][0]["questions"] == ["手机能开户吗", "开户流程"]
    _write(tmp_path, "b.md", "---\nid: b\nkind: nonsense\n---\nx")
    result = runner.invoke(content, ["import", str(tmp_path), "--no-progress"], obj=obj)
    assert result.exit_code == 1 and "b.md: kind" in result.output


def test_cli_match_and_reindex_use_the_runtime_settings(tmp_path, make_runtime):
    from types import SimpleNamespace

    _write(tmp_path, "a.md", GOOD_MD)
    obj = SimpleNamespace(runtime=make_runtime({"mode": "lexical"}))
    runner = CliRunner()
    assert runner.invoke(content, ["import", str(tmp_path), "--no-progress"], obj=obj).exit_code == 0
    result = runner.invoke(content, ["match", "手机上能开户吗"], obj=obj)
    data = json.loads(result.output)
    assert data["confident"] and data["best"]["slug"] == "faq-good" and data["mode"] == "lexical"
    result = runner.invoke(content, ["reindex"], obj=obj)
    assert json.loads(result.output)["documents"] == 1
