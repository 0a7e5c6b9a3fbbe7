from sqlalchemy import func, select

from bot.contacts.crm_import import ImportFileError
from bot.contacts.models import ClientActivity, Contact, CrmClient, CrmImport
from tests.contacts.factories import crm_row, write_csv

import pytest


def _svc(runtime):
    return runtime.services.contacts


def test_import_good_and_bad_rows_with_line_numbers(runtime, tmp_path):
    rows = [crm_row("1001", "wmA"), crm_row("1002", "wmB", total_assets="abc"),
            crm_row("1003", "", risk_level="C9"), crm_row("1004", "wmD", last_trade_date="2026-13-01"),
            crm_row("", "wmE"), crm_row("1006", "wmA")]
    path = write_csv(tmp_path / "crm.csv", rows)
    report = _svc(runtime).importer.import_file(path)
    assert report.rows_ok == 1
    assert report.rows_bad == 5
    lines = [line for line, _ in report.errors]
    assert lines == [3, 4, 5, 6, 7]
    reasons = dict(report.errors)
    assert "total_assets" in reasons[3] and "risk_level" in reasons[4] and "last_trade_date" in reasons[5]
    assert "client_no" in reasons[6] and "external_userid" in reasons[7]
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(CrmClient)) == 1
        assert s.scalar(select(Contact.external_userid)) == "wmA"
        assert s.scalar(select(CrmImport.status)) == "done"


def test_import_is_idempotent_and_records_trades(runtime, tmp_path):
    svc = _svc(runtime)
    first = write_csv(tmp_path / "a.csv", [crm_row("1", "wm1"), crm_row("2", "wm2", last_trade_date="")])
    svc.importer.import_file(first)
    again = svc.importer.import_file(first)
    assert again.activities == 0 and again.rows_ok == 2 and again.new_contacts == 0
    later = write_csv(tmp_path / "b.csv", [crm_row("1", "wm1", last_trade_date="2026-11-18"),
                                          crm_row("2", "wm2", last_trade_date="2026-11-19", extra="x")])
    report = svc.importer.import_file(later)
    assert report.activities == 2
    with runtime.session() as s:
        trades = s.execute(select(ClientActivity.client_no, ClientActivity.trade_date, ClientActivity.import_id)
                           .order_by(ClientActivity.client_no)).all()
        assert [(c, d.isoformat(), i) for c, d, i in trades] == [("1", "2026-11-18", report.import_id),
                                                                 ("2", "2026-11-19", report.import_id)]
    assert svc.importer.import_file(later).activities == 0


def test_missing_optional_values_are_null_and_extra_columns_ignored(runtime, tmp_path):
    header = ["note", "client_no", "external_userid", "owner_userid", "total_assets", "securities_value",
              "cash_balance", "last_trade_date", "trades_12m", "risk_level", "birth_year", "open_date",
              "first_deposit_date"]
    row = {k: "" for k in header}
    row.update(note="备注", client_no="77", external_userid="wm77")
    path = write_csv(tmp_path / "c.csv", [row], header=header)
    assert _svc(runtime).importer.import_file(path).rows_ok == 1
    with runtime.session() as s:
        client = s.get(CrmClient, "77")
        assert client.total_assets is None and client.last_trade_date is None and client.risk_level is None


def test_missing_column_is_a_clear_error_and_changes_nothing(runtime, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("client_no,external_userid\n1,wm1\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="total_assets"):
        _svc(runtime).importer.import_file(str(path))
    with runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(CrmImport)) == 0


def test_external_userid_taken_by_another_client_across_imports(runtime, tmp_path):
    svc = _svc(runtime)
    svc.importer.import_file(write_csv(tmp_path / "a.csv", [crm_row("1", "wm1")]))
    report = svc.importer.import_file(write_csv(tmp_path / "b.csv", [crm_row("2", "wm1"), crm_row("3", "wm3")]))
    assert report.rows_ok == 1 and report.errors == [(2, "external_userid 已属于另一个 client_no")]


def test_invalid_utf8_row_is_reported(runtime, tmp_path):
    path = tmp_path / "enc.csv"
    write_csv(path, [crm_row("1", "wm1")])
    with open(path, "ab") as fh:
        fh.write(b"2,wm2,adv\xff,1,1,1,,,,,,\n")
    report = _svc(runtime).importer.import_file(str(path))
    assert report.rows_ok == 1 and report.errors[0][0] == 3 and "UTF-8" in report.errors[0][1]


@pytest.mark.postgres
def test_import_on_postgres_uses_copy_and_upserts(pg_runtime, tmp_path):
    svc = _svc(pg_runtime)
    rows = [crm_row(str(i), f"wm{i}", total_assets=str(i * 1000)) for i in range(1, 251)]
    rows.append(crm_row("x", "wmX", birth_year="1700"))
    report = svc.importer.import_file(write_csv(tmp_path / "p.csv", rows))
    assert report.rows_ok == 250 and report.rows_bad == 1 and report.new_contacts == 250
    rows[0]["last_trade_date"] = "2026-11-19"
    again = svc.importer.import_file(write_csv(tmp_path / "q.csv", rows))
    assert again.activities == 1 and again.new_contacts == 0
    with pg_runtime.session() as s:
        assert s.get(CrmClient, "10").total_assets == 10000
