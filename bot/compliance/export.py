"""Export of a case for regulators or legal: messages, alerts and the audit trail, as JSON lines and
CSV, with a manifest of sha256 per file; the manifest itself is hashed (manifest.sha256).

A case is an alert id (the alerted message with its conversation: the same client and advisor within
`case_context_days` either side), or criteria: client / advisor / date range / channel. Each message
carries its chain position, hash and prev_hash, and the manifest records the chain head at export
time, so a reader can check the records against a later verification. The export itself is audited.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.compliance.archive_audit import audit_trail, check_actor, write_audit
from bot.compliance.archive_models import ArchiveAlert, ArchiveChainHead, ArchiveMessage
from bot.compliance.search import SearchCriteria, SearchError, message_filter
from bot.db import session_scope

logger = logging.getLogger(__name__)
_M = ArchiveMessage.__table__
_A = ArchiveAlert.__table__
_H = ArchiveChainHead.__table__
MESSAGE_FIELDS = ("id", "chain_seq", "channel", "direction", "sender", "receiver", "external_userid", "userid",
                  "sent_at", "recorded_at", "msgid", "msgtype", "content", "suggestion_id", "content_version_id",
                  "origin", "prev_hash", "hash")
ALERT_FIELDS = ("id", "message_id", "chain_seq", "rule", "category", "severity", "span_start", "span_end",
                "hit_text", "channel", "direction", "userid", "external_userid", "sent_at", "status", "assignee",
                "escalation_level", "disposition", "created_at", "updated_at", "closed_at")
AUDIT_FIELDS = ("id", "subject", "subject_id", "action", "actor", "at", "detail")


class ExportError(ValueError):
    """Bad export request; nothing was written."""


def _cell(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class CaseExporter:
    def __init__(self, session_factory, clock, *, export_dir: str = "var/exports", context_days: int = 3):
        self._session_factory = session_factory
        self._clock = clock
        self._export_dir = Path(export_dir)
        self._context = timedelta(days=context_days)

    def export(self, *, by: str, case: int | None = None, client: str | None = None, advisor: str | None = None,
               date_from: datetime | None = None, date_to: datetime | None = None, channel: str | None = None,
               out_dir: str | os.PathLike | None = None) -> dict:
        by = check_actor(by)
        if case is None and not (client or advisor):
            raise ExportError("请指定 --case 预警编号，或 --client / --advisor（可加日期范围）")
        now = self._clock.now()
        with session_scope(self._session_factory) as session:
            dialect = session.get_bind().dialect.name
            if case is not None:
                alert = session.execute(select(_A).where(_A.c.id == case)).mappings().first()
                if alert is None:
                    raise ExportError(f"预警 {case} 不存在")
                criteria = SearchCriteria(client=alert["external_userid"], advisor=alert["userid"],
                                          date_from=alert["sent_at"] - self._context,
                                          date_to=alert["sent_at"] + self._context + timedelta(microseconds=1))
                if not (alert["external_userid"] or alert["userid"]):
                    criteria = None
            else:
                criteria = SearchCriteria(client=client, advisor=advisor, date_from=date_from, date_to=date_to,
                                          channel=channel)
            try:
                where = message_filter(criteria, dialect) if criteria else [_M.c.id == alert["message_id"]]
            except SearchError as exc:
                raise ExportError(str(exc)) from None
            if case is not None:  # the alerted message itself, whatever the context window holds
                from sqlalchemy import and_, or_

                where = [or_(_M.c.id == alert["message_id"], and_(*where))]
            messages = [dict(r) for r in session.execute(
                select(*[_M.c[f] for f in MESSAGE_FIELDS]).where(*where).order_by(_M.c.chain_seq)).mappings()]
            ids = [m["id"] for m in messages]
            alerts = []
            for start in range(0, len(ids), 1000):
                alerts += [dict(r) for r in session.execute(
                    select(_A).where(_A.c.message_id.in_(ids[start:start + 1000])).order_by(_A.c.id)).mappings()]
            trail = audit_trail(session, "alert", [a["id"] for a in alerts])
            head = session.execute(select(_H.c.last_seq, _H.c.last_hash).where(_H.c.id == 1)).first()
            export_id = f"{now:%Y%m%dT%H%M%SZ}-" + (f"case{case}" if case is not None else "query")
            target = Path(out_dir) if out_dir else self._export_dir / export_id
            if target.exists() and any(target.iterdir()):
                raise ExportError(f"导出目录 {target} 已存在且不为空")
            target.mkdir(parents=True, exist_ok=True)
            files = {}
            for name, rows, fields in (("messages", messages, MESSAGE_FIELDS), ("alerts", alerts, ALERT_FIELDS),
                                       ("audit", trail, AUDIT_FIELDS)):
                files.update(self._write(target, name, rows, fields))
            manifest = {
                "export_id": export_id, "created_at": now.isoformat(), "created_by": by,
                "criteria": {"case": case, "client": criteria.client if criteria else None,
                             "advisor": criteria.advisor if criteria else None,
                             "date_from": _cell(criteria.date_from) if criteria else None,
                             "date_to": _cell(criteria.date_to) if criteria else None,
                             "channel": criteria.channel if criteria else None},
                "counts": {"messages": len(messages), "alerts": len(alerts), "audit": len(trail)},
                "chain_head": {"seq": head.last_seq if head else 0, "hash": head.last_hash if head else None},
                "files": files,
            }
            manifest_path = target / "manifest.json"
            manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                     encoding="utf-8")
            manifest_hash = sha256_file(manifest_path)
            (target / "manifest.sha256").write_text(f"{manifest_hash}  manifest.json\n", encoding="utf-8")
            write_audit(session, "export", export_id, "export", by, now, directory=str(target),
                        manifest_sha256=manifest_hash, **manifest["counts"], criteria=manifest["criteria"])
        logger.info("case export %s: %d messages, %d alerts", export_id, len(messages), len(alerts))
        return {"export_id": export_id, "directory": str(target), "manifest_sha256": manifest_hash,
                **manifest["counts"]}

    @staticmethod
    def _write(target: Path, name: str, rows: list[dict], fields: tuple[str, ...]) -> dict:
        jsonl, csv_path = target / f"{name}.jsonl", target / f"{name}.csv"
        with open(jsonl, "w", encoding="utf-8", newline="\n") as fh:
            for row in rows:
                fh.write(json.dumps({f: _cell(row.get(f)) for f in fields}, ensure_ascii=False, sort_keys=True) + "\n")
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:  # BOM: Excel opens Chinese correctly
            writer = csv.writer(fh)
            writer.writerow(fields)
            for row in rows:
                writer.writerow([_cell(row.get(f)) for f in fields])
        return {p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size, "rows": len(rows)}
                for p in (jsonl, csv_path)}


def verify_export(directory: str | os.PathLike) -> list[str]:
    """Problems found re-hashing an export (empty list: intact)."""
    directory = Path(directory)
    problems = []
    manifest_path = directory / "manifest.json"
    expected = (directory / "manifest.sha256").read_text(encoding="utf-8").split()[0]
    if sha256_file(manifest_path) != expected:
        problems.append("manifest.json 与 manifest.sha256 不符")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for name, info in manifest["files"].items():
        path = directory / name
        if not path.exists():
            problems.append(f"{name} 缺失")
        elif sha256_file(path) != info["sha256"]:
            problems.append(f"{name} 被修改")
    return problems


def build_exporter(runtime) -> CaseExporter:
    from bot.compliance.archive_settings import archive_settings

    cfg = archive_settings(runtime.settings)
    return CaseExporter(runtime.session_factory, runtime.clock, export_dir=cfg.export_dir,
                        context_days=cfg.case_context_days)
