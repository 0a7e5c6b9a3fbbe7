"""Import content from a folder of Markdown files with front matter, or CSV / JSON exports.

Every record is validated first; each valid item is then written in its own transaction
(``ContentService.upsert``), so an item is never half-imported and re-importing changes nothing.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import frontmatter
from tqdm import tqdm

from content.schema import ContentFields, FieldError, validate_fields

MARKDOWN_SUFFIXES = {".md", ".markdown"}
SUFFIXES = MARKDOWN_SUFFIXES | {".csv", ".json"}
_ALIASES = {"id": "slug", "type": "kind", "question": "questions", "tags": "topics",
            "answer": "body", "content": "body", "risk": "risk_level", "auto_reply": "auto_reply_allowed"}


@dataclass(frozen=True)
class ImportProblem:
    source: str  # file, or file:row / file[index]
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.field}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    status_changed: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def bad_sources(self) -> list[str]:
        return sorted({p.source for p in self.problems})

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "status_changed": self.status_changed,
                "unchanged": self.unchanged, "bad": len(self.bad_sources),
                "problems": [p.__dict__ for p in self.problems]}


def _normalise_keys(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).strip().lower()
        out[_ALIASES.get(name, name)] = value
    return out


def _markdown_records(path: Path, label: str) -> Iterator[tuple[str, dict[str, Any]]]:
    post = frontmatter.load(str(path))
    data = _normalise_keys(dict(post.metadata))
    data.setdefault("slug", path.stem)
    data["body"] = post.content.strip()
    yield label, data


def _csv_records(path: Path, label: str) -> Iterator[tuple[str, dict[str, Any]]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):  # row 1 is the header
            if None in row:
                raise ValueError(f"row {number} has more cells than the header")
            yield f"{label}:{number}", _normalise_keys({k: v for k, v in row.items() if k is not None})


def _json_records(path: Path, label: str) -> Iterator[tuple[str, dict[str, Any]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError('expected a list of items or {"items": [...]}')
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise ValueError(f"item {index} is not an object")
        yield f"{label}[{index}]", _normalise_keys(raw)


def discover(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(str(path))
    return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not p.name.startswith((".", "_")))


def read_records(path: Path) -> tuple[list[tuple[str, ContentFields]], list[ImportProblem]]:
    """Parse and validate everything under ``path``; nothing is written."""
    root = path if path.is_dir() else path.parent
    good: list[tuple[str, ContentFields]] = []
    problems: list[ImportProblem] = []
    seen: dict[str, str] = {}
    for file in discover(path):
        label = str(file.relative_to(root))
        suffix = file.suffix.lower()
        reader = (_markdown_records if suffix in MARKDOWN_SUFFIXES
                  else _csv_records if suffix == ".csv" else _json_records)
        try:
            records = list(reader(file, label))
        except Exception as exc:  # unreadable file, bad YAML/CSV/JSON: reported, not raised
            problems.append(ImportProblem(label, "file", f"cannot be parsed: {exc}".splitlines()[0]))
            continue
        for source, raw in records:
            try:
                data = validate_fields(raw)
            except FieldError as exc:
                problems.extend(ImportProblem(source, f, m) for f, m in exc.problems)
                continue
            if data.slug in seen:
                problems.append(ImportProblem(source, "slug", f"duplicate of {seen[data.slug]}"))
                continue
            seen[data.slug] = source
            good.append((source, data))
    return good, problems


def import_path(service, path: str | Path, *, actor: str = "import", strict: bool = False,
                progress: bool = True) -> ImportReport:
    """Import every valid record; with ``strict``, import nothing if any record is bad."""
    path = Path(path)
    report = ImportReport()
    good, report.problems = read_records(path)
    if strict and report.problems:
        return report
    counters = {"created": "created", "updated": "updated", "status": "status_changed", "unchanged": "unchanged"}
    for source, data in tqdm(good, desc="导入内容", unit="条", disable=not progress):
        try:
            outcome = service.upsert(data, actor, source=f"import:{source}"[:255])
        except FieldError as exc:
            report.problems.extend(ImportProblem(source, f, m) for f, m in exc.problems)
            continue
        setattr(report, counters[outcome], getattr(report, counters[outcome]) + 1)
    return report
