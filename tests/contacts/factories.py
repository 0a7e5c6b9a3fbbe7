"""CSV and data builders for the contacts tests."""

from __future__ import annotations

import csv
import io

HEADER = ("client_no,external_userid,owner_userid,total_assets,securities_value,cash_balance,last_trade_date,"
          "trades_12m,risk_level,birth_year,open_date,first_deposit_date").split(",")


def crm_row(client_no: str, external_userid: str = "", **values) -> dict:
    row = {k: "" for k in HEADER}
    row.update(client_no=client_no, external_userid=external_userid, owner_userid="adv1",
               total_assets="20000", securities_value="15000", cash_balance="5000", last_trade_date="2026-11-02",
               trades_12m="6", risk_level="C3", birth_year="1980", open_date="2015-03-01",
               first_deposit_date="2015-03-05")
    row.update({k: str(v) for k, v in values.items()})
    return row


def write_csv(path, rows: list[dict], header=HEADER, extra_lines: list[str] = ()) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(header), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    for line in extra_lines:
        buf.write(line + "\n")
    path.write_text(buf.getvalue(), encoding="utf-8")
    return str(path)
