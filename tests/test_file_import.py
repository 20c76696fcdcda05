"""File-export import against a real PostgreSQL: quarantine, duplicates, corrected files,
encodings, schema changes (new and removed columns), XLSX, hostile identifiers and cells."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from salesperf.cli import main as salesperf_main
from salesperf.sources.file_mapping import MappingError, load_mapping
from salesperf.sources.files import FileImportError, import_dir

MAPPING = """
source: test_crm
defaults:
  encoding: auto
  timezone: UTC
  max_field_chars: 2000
files:
  - pattern: "opps*.csv"
    entity: opportunities
    columns:
      id: opp_id
      name: title
      owner_id: {from: owner, transform: slug}
      stage:
        from: stage
        map: {Open: prospecting, Won: closed_won, Lost: closed_lost}
        unmapped: error
      amount: amount
      created_at: {from: created, format: "%Y-%m-%d %H:%M"}
  - pattern: "opps*.xlsx"
    entity: opportunities
    columns:
      id: opp_id
      name: title
      owner_id: owner
      stage: {from: stage, map: {Open: prospecting, Won: closed_won}, unmapped: error}
      amount: amount
      created_at: created
  - pattern: "reps_gbk*.csv"
    encoding: gbk
    entity: users
    columns: {id: 工号, name: 姓名}
  - pattern: "reps*.csv"
    entity: users
    columns:
      id: 工号
      name: 姓名
      role: {const: rep}
      locale: {const: zh_CN}
"""

HEADER = "opp_id,title,owner,stage,amount,created\n"


@pytest.fixture
def mapping(tmp_path) -> Path:
    p = tmp_path / "test_crm.yaml"
    p.write_text(MAPPING, encoding="utf-8")
    return p


@pytest.fixture
def drop(tmp_path) -> Path:
    d = tmp_path / "drop"
    d.mkdir()
    return d


def rows(conn, sql, *params):
    return conn.execute(sql, params).fetchall()


def live_opps(conn) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in rows(
            conn,
            "select id, name, owner_id, stage, amount from raw.opportunities "
            "where _source = 'test_crm' and _deleted_at is null",
        )
    }


def test_bad_rows_go_to_quarantine_and_good_rows_load(mapping, drop, warehouse_db, conn):
    lines = [
        HEADER.encode(),
        b"o1,Good one,Ann Lee,Won,100.50,2024-01-02 10:00\n",  # line 2
        b"o2,Bad date,Ann Lee,Open,5,2024-13-45 10:00\n",  # line 3
        b"o3,Bad amount,Ann Lee,Open,12abc,2024-01-02 10:00\n",  # line 4
        b"o4,No owner,,Open,5,2024-01-02 10:00\n",  # line 5
        b"o5,Too,many,fields,Open,5,2024-01-02 10:00\n",  # line 6
        b"o6,Nul \x00 inside,Ann Lee,Open,5,2024-01-02 10:00\n",  # line 7
        b"o7,Bad byte \xff here,Ann Lee,Open,5,2024-01-02 10:00\n",  # line 8
        b"o8,Odd stage,Ann Lee,Pending,5,2024-01-02 10:00\n",  # line 9
        b'o9,"multi\nline title",Bob,Lost,0,2024-01-03 09:30\n',  # lines 10-11
        b"o10," + b"x" * 3000 + b",Ann Lee,Open,5,2024-01-02 10:00\n",  # line 12
        b"o11,Last good,Bob,Open,,2024-01-04 08:00\n",  # line 13
    ]
    (drop / "opps_jan.csv").write_bytes(b"".join(lines))

    report = import_dir(mapping, drop, warehouse_db)

    assert report.quarantined == 8
    assert report.file("opps_jan.csv").rows_in == 11
    assert set(live_opps(conn)) == {"o1", "o9", "o11"}
    assert live_opps(conn)["o9"][0] == "multi\nline title"
    assert live_opps(conn)["o1"][3] == Decimal("100.50")
    q = {
        r[0]: r[1:]
        for r in rows(
            conn,
            "select line_number, column_name, value, reason, raw_record, entity, file_name "
            "from ops.quarantine where source = 'test_crm'",
        )
    }
    assert sorted(q) == [3, 4, 5, 6, 7, 8, 9, 12]
    assert q[3][0] == "created" and q[3][1] == "2024-13-45 10:00" and "date format" in q[3][2]
    assert q[4][0] == "amount" and "not a number" in q[4][2]
    assert q[5][0] == "owner" and "required value is empty" in q[5][2]
    assert q[6][0] is None and "expected 6 fields, got 7" in q[6][2]
    assert q[6][3] == {"fields": ["o5", "Too", "many", "fields", "Open", "5", "2024-01-02 10:00"]}
    assert q[7][0] == "title" and "NUL" in q[7][2] and q[7][1] == "Nul \\x00 inside"
    assert q[8][0] == "title" and "undecodable" in q[8][2] and q[8][1] == "Bad byte \\xff here"
    assert q[9][0] == "stage" and "'Pending' is not in the mapping's value map" in q[9][2]
    assert q[12][0] == "title" and "longer than 2000" in q[12][2]
    assert q[3][3]["opp_id"] == "o2"  # the raw record, for fixing and re-dropping
    assert {r[4] for r in q.values()} == {"opportunities"}
    assert {r[5] for r in q.values()} == {"opps_jan.csv"}
    (batch,) = rows(
        conn, "select rows_in, rows_loaded, rows_quarantined, status from ops.load_batches"
    )
    assert batch == (11, 3, 8, "succeeded")
    assert (drop / "archive" / "opps_jan.csv").exists() and not (drop / "opps_jan.csv").exists()


def test_same_file_dropped_twice_loads_once(mapping, drop, warehouse_db, conn):
    content = HEADER + "o1,A,Ann,Open,1,2024-01-02 10:00\no2,B,Bob,Won,2,2024-01-02 10:00\n"
    (drop / "opps.csv").write_text(content)
    first = import_dir(mapping, drop, warehouse_db)
    before = rows(conn, "select id, _batch_id, _extracted_at from raw.opportunities order by id")

    (drop / "opps.csv").write_text(content)  # the same export dropped again
    second = import_dir(mapping, drop, warehouse_db)

    assert first.file("opps.csv").status == "loaded"
    assert second.file("opps.csv").status == "duplicate" and second.skipped_duplicates == 1
    assert (
        rows(conn, "select id, _batch_id, _extracted_at from raw.opportunities order by id")
        == before
    )
    assert rows(conn, "select count(*) from ops.imported_files") == [(1,)]
    assert rows(conn, "select count(*) from ops.load_batches") == [(1,)]
    # Both copies were archived, the second under a new name; nothing deleted.
    assert sorted(p.name.split(".")[0] for p in (drop / "archive").iterdir()) == ["opps", "opps"]


def test_corrected_file_replaces_its_earlier_version(mapping, drop, warehouse_db, conn):
    (drop / "opps.csv").write_text(
        HEADER
        + "o1,A,Ann,Open,1,2024-01-02 10:00\n"
        + "o2,B,Bob,Open,2,2024-01-02 10:00\n"
        + "o3,C,Cy,Open,3,2024-01-02 10:00\n"
    )
    (drop / "opps_other.csv").write_text(HEADER + "x1,X,Ann,Open,9,2024-01-02 10:00\n")
    import_dir(mapping, drop, warehouse_db)

    (drop / "opps.csv").write_text(  # corrected: o1 changed, o2 gone, o4 new
        HEADER
        + "o1,A,Ann,Won,10,2024-01-02 10:00\n"
        + "o3,C,Cy,Open,3,2024-01-02 10:00\n"
        + "o4,D,Di,Open,4,2024-01-05 10:00\n"
    )
    report = import_dir(mapping, drop, warehouse_db)

    res = report.file("opps.csv")
    assert (res.inserted, res.updated, res.deleted) == (
        {"opportunities": 1},
        {"opportunities": 1},
        {"opportunities": 1},
    )
    assert live_opps(conn) == {
        "o1": ("A", "ann", "closed_won", Decimal("10.00")),
        "o3": ("C", "cy", "prospecting", Decimal("3.00")),
        "o4": ("D", "di", "prospecting", Decimal("4.00")),
        "x1": ("X", "ann", "prospecting", Decimal("9.00")),  # another file: untouched
    }
    # o2 is kept for audit with _deleted_at; no key appears twice.
    assert rows(conn, "select id from raw.opportunities where _deleted_at is not null") == [("o2",)]
    assert rows(conn, "select count(*), count(distinct id) from raw.opportunities") == [(5, 5)]

    (drop / "opps.csv").write_text(HEADER + "o2,B,Bob,Open,2,2024-01-02 10:00\n")
    import_dir(mapping, drop, warehouse_db)  # o2 comes back, the others of this file go
    assert set(live_opps(conn)) == {"o2", "x1"}


@pytest.mark.parametrize(
    ("file_name", "encoding"),
    [("reps_gbk.csv", "gbk"), ("reps_bom.csv", "utf-8-sig"), ("reps_auto_gbk.csv", "gbk")],
)
def test_chinese_text_round_trips(mapping, drop, warehouse_db, conn, file_name, encoding):
    people = [("r001", "王伟"), ("r002", "李娜 (华东)"), ("r003", "欧阳·明"), ("r004", "Zoë Smith")]
    if encoding == "gbk":
        people[3] = ("r004", "张三丰")  # GBK has no ë
    text = "工号,姓名\r\n" + "".join(f"{i},{n}\r\n" for i, n in people)
    (drop / file_name).write_bytes(text.encode(encoding))

    report = import_dir(mapping, drop, warehouse_db)

    assert report.quarantined == 0
    assert rows(conn, "select id, name from raw.users order by id") == people
    expected = {"reps_gbk.csv": "gbk", "reps_bom.csv": "utf-8-sig", "reps_auto_gbk.csv": "gb18030"}
    assert report.file(file_name).encoding == expected[file_name]


def test_missing_required_column_stops_the_file_and_loads_nothing(
    mapping, drop, warehouse_db, conn
):
    (drop / "opps_a.csv").write_text(HEADER + "o1,A,Ann,Open,1,2024-01-02 10:00\n")
    import_dir(mapping, drop, warehouse_db)
    # The export lost its 'stage' column; another file in the same drop is fine.
    (drop / "opps_a.csv").write_text(
        "opp_id,title,owner,amount,created\n"
        + "o1,A,Ann,1,2024-01-02 10:00\no2,B,Bob,2,2024-01-02 10:00\n"
    )
    (drop / "reps.csv").write_text("工号,姓名\nr1,王伟\n", encoding="utf-8")

    with pytest.raises(
        FileImportError,
        match=r"opps_a\.csv: required column 'stage' \(for opportunities\.stage\) missing .*mapping test_crm\.yaml",
    ):
        import_dir(mapping, drop, warehouse_db)

    assert live_opps(conn) == {"o1": ("A", "ann", "prospecting", Decimal("1.00"))}  # untouched
    assert rows(conn, "select id from raw.users") == [("r1",)]  # the good file still loaded
    failed = rows(
        conn, "select file_name, status, message from ops.load_batches where status <> 'succeeded'"
    )
    assert (
        len(failed) == 1 and failed[0][:2] == ("opps_a.csv", "failed") and "'stage'" in failed[0][2]
    )
    assert rows(conn, "select count(*) from ops.imported_files where file_name = 'opps_a.csv'") == [
        (1,)
    ]
    assert (drop / "opps_a.csv").exists()  # left in place to be fixed, not archived


def test_cli_reports_a_missing_column_in_one_line(mapping, drop, warehouse_db, capsys):
    (drop / "opps.csv").write_text("opp_id,title\no1,A\n")
    code = salesperf_main(["import", "--mapping", str(mapping), "--dir", str(drop)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("salesperf: error: opps.csv: required column") and "\n" not in err


def test_new_source_column_is_kept_in_extra_and_reported(mapping, drop, warehouse_db, conn):
    (drop / "opps.csv").write_text(
        'opp_id,title,owner,stage,amount,created,region,x"; drop table raw.opportunities; --\n'
        "o1,A,Ann,Open,1,2024-01-02 10:00,East,=cmd|' /C calc'!A0\n"
        "o2,B,Ann,Open,1,2024-01-02 10:00,,\n"
    )
    report = import_dir(mapping, drop, warehouse_db)

    assert report.file("opps.csv").unknown_columns == [
        "region",
        'x"; drop table raw.opportunities; --',
    ]
    assert report.unknown_columns == {
        "opps.csv": ["region", 'x"; drop table raw.opportunities; --']
    }
    assert "unknown columns kept in _extra: region" in report.summary()
    extra = dict(rows(conn, "select id, _extra from raw.opportunities order by id"))
    assert extra["o1"] == {
        "region": "East",
        'x"; drop table raw.opportunities; --': "=cmd|' /C calc'!A0",
    }
    assert extra["o2"] is None  # empty unknown values are not stored
    assert rows(conn, "select count(*) from raw.opportunities") == [(2,)]  # the table survived
    (message,) = rows(conn, "select message from ops.load_batches")[0]
    assert "unknown columns kept in _extra: region" in message


def test_formula_looking_cells_are_stored_as_text(mapping, drop, warehouse_db, conn):
    (drop / "opps.csv").write_text(
        HEADER + 'o1,"=HYPERLINK(""http://x"",""y"")",Ann,Open,1,2024-01-02 10:00\n'
        "o2,=cmd|' /C calc'!A0,@SUM(1),Open,1,2024-01-02 10:00\n"
    )
    import_dir(mapping, drop, warehouse_db)
    assert dict(rows(conn, "select id, name from raw.opportunities")) == {
        "o1": '=HYPERLINK("http://x","y")',
        "o2": "=cmd|' /C calc'!A0",
    }


def test_xlsx_export_is_imported_with_native_types(mapping, drop, warehouse_db, conn):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["opp_id", "title", "owner", "stage", "amount", "created"])
    ws.append(["o1", "赢单 大客户", "ann", "Won", 1234.5, datetime(2024, 3, 1, 9, 30)])
    ws.append(["o2", "=1+2", "bob", "Open", 7, date(2024, 3, 2)])
    ws.append(["o3", "bad amount", "bob", "Open", "lots", datetime(2024, 3, 2)])
    ws.append([None, None, None, None, None, None])  # an empty row is not data
    ws.append(["o4", "no stage map", "bob", "Lost", 1, datetime(2024, 3, 2)])
    wb.save(drop / "opps_march.xlsx")

    report = import_dir(mapping, drop, warehouse_db)

    assert report.quarantined == 2
    got = rows(
        conn,
        "select id, name, stage, amount, created_at at time zone 'UTC' from raw.opportunities order by id",
    )
    assert got == [
        ("o1", "赢单 大客户", "closed_won", Decimal("1234.50"), datetime(2024, 3, 1, 9, 30)),
        ("o2", "=1+2", "prospecting", Decimal("7.00"), datetime(2024, 3, 2)),
    ]
    q = rows(conn, "select line_number, column_name from ops.quarantine order by line_number")
    assert q == [(4, "amount"), (6, "stage")]


def test_unmatched_files_stay_and_are_reported(mapping, drop, warehouse_db):
    (drop / "notes.docx").write_bytes(b"not data")
    report = import_dir(mapping, drop, warehouse_db)
    assert report.file("notes.docx").status == "unmatched"
    assert (drop / "notes.docx").exists()


def test_invalid_mappings_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "source: bad\nfiles:\n  - pattern: '*.csv'\n    entity: opportunities\n"
        '    columns: {id: a, owner_id: b, stage: c, "x\\"; drop table": d}\n'
    )
    with pytest.raises(MappingError, match=r"opportunities has no column 'x\"; drop table'"):
        load_mapping(bad)


def test_mapping_must_map_required_entity_columns(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "source: bad\nfiles:\n  - pattern: '*.csv'\n    entity: opportunities\n    columns: {id: a}\n"
    )
    with pytest.raises(
        MappingError, match=r"required entity columns not mapped: \['owner_id', 'stage'\]"
    ):
        load_mapping(bad)


def test_raw_record_of_a_quarantined_row_is_json(mapping, drop, warehouse_db, conn):
    (drop / "opps.csv").write_text(
        HEADER + 'o1,"quote "" and , comma",Ann,Nope,1,2024-01-02 10:00\n'
    )
    import_dir(mapping, drop, warehouse_db)
    (raw,) = rows(conn, "select raw_record::text from ops.quarantine")[0]
    assert json.loads(raw)["title"] == 'quote " and , comma'


def test_two_concurrent_imports_load_each_file_once(shared_data, tmp_path, warehouse_db, conn):
    import shutil
    import threading

    drop = tmp_path / "maven"
    drop.mkdir()
    for name in ("sales_pipeline.csv", "sales_teams.csv", "accounts.csv"):
        shutil.copy(shared_data / "maven_crm" / name, drop / name)
    reports, errors = [], []

    def run():
        try:
            reports.append(import_dir("maven_crm", drop, warehouse_db))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert rows(conn, "select count(*), count(distinct id) from raw.opportunities") == [
        (8800, 8800)
    ]
    assert rows(conn, "select count(*) from ops.imported_files") == [(3,)]
    assert rows(conn, "select count(*) from ops.load_batches") == [(3,)]
    statuses = sorted(f.status for r in reports for f in r.files)
    assert statuses.count("loaded") == 3  # each file loaded by exactly one of the runs
    assert sorted(p.name for p in (drop / "archive").iterdir()) == [
        "accounts.csv",
        "sales_pipeline.csv",
        "sales_teams.csv",
    ]


def test_drop_folder_uses_the_mapping_of_its_name(tmp_path, warehouse_db, conn):
    from salesperf.sources.files import import_drop_folder, pending_drop_folders

    root = tmp_path / "drop"
    (root / "test_crm").mkdir(parents=True)
    (root / "empty_one").mkdir()
    (root / "test_crm.yaml").write_text(MAPPING, encoding="utf-8")
    (root / "test_crm" / "opps.csv").write_text(HEADER + "o1,A,Ann,Open,1,2024-01-02 10:00\n")

    assert pending_drop_folders(root) == ["test_crm"]
    report = import_drop_folder("test_crm", root, warehouse_db)

    assert report.source == "test_crm" and report.loaded_by_entity == {"opportunities": 1}
    assert pending_drop_folders(root) == []  # archived
    assert (root / "test_crm" / "archive" / "opps.csv").exists()


def test_read_options_and_derivations(tmp_path, warehouse_db, conn):
    """TSV with title lines above the header, null markers, booleans, templates, `when`,
    `multiply`, a fallback column, and one file feeding two entities (one distinct)."""
    (tmp_path / "m.yaml").write_text(
        """
source: options_crm
files:
  - pattern: "*.tsv"
    delimiter: tab
    header_row: 3
    null_values: ["", "N/A"]
    timezone: Asia/Shanghai
    targets:
      - entity: opportunities
        columns:
          id: Ref
          owner_id: {from: Rep, transform: slug}
          stage: {from: Status, map: {open: prospecting, won: closed_won}, unmapped: error}
          is_won: {from: "Won?", default: false}
          amount: {from: "Amount (k)", multiply: 1000}
          name: {template: "{Customer} / {Ref}"}
          created_at: {from: [Created, Logged], format: ["%d.%m.%Y %H:%M", "%Y%m%d"]}
          closed_at: {from: Created, format: "%d.%m.%Y %H:%M", when: {Status: won}}
      - entity: users
        distinct: true
        columns:
          id: {from: Rep, transform: slug}
          name: Rep
          role: {const: rep}
""",
        encoding="utf-8",
    )
    drop = tmp_path / "d"
    drop.mkdir()
    (drop / "export.tsv").write_text(
        "Deals export\n(generated)\n"
        "Ref\tRep\tStatus\tWon?\tAmount (k)\tCustomer\tCreated\tLogged\n"
        "r1\tAnn Lee\twon\tyes\t1.5\tAcme\t02.01.2024 09:30\t\n"
        "r2\tAnn Lee\topen\tN/A\t2\tN/A\t\t20240105\n"
        "r3\t王 伟\topen\tno\tN/A\tBeta\t03.01.2024 10:00\t\n",
        encoding="utf-8",
    )

    report = import_dir(tmp_path / "m.yaml", drop, warehouse_db)

    assert report.quarantined == 0
    got = rows(
        conn,
        "select id, owner_id, stage, is_won, amount, name, "
        "to_char(created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI'), "
        "closed_at is not null from raw.opportunities order by id",
    )
    assert got == [
        (
            "r1",
            "ann-lee",
            "closed_won",
            True,
            Decimal("1500.00"),
            "Acme / r1",
            "2024-01-02 09:30",
            True,
        ),
        (
            "r2",
            "ann-lee",
            "prospecting",
            False,
            Decimal("2000.00"),
            None,
            "2024-01-05 00:00",
            False,
        ),
        ("r3", "王-伟", "prospecting", False, None, "Beta / r3", "2024-01-03 10:00", False),
    ]
    assert rows(conn, "select id, name, role from raw.users order by id") == [
        ("ann-lee", "Ann Lee", "rep"),
        ("王-伟", "王 伟", "rep"),
    ]
    assert report.file("export.tsv").loaded == {"opportunities": 3, "users": 2}


def test_yaml_syntax_error_names_the_line(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("source: x\nfiles:\n  - {pattern: a.csv, columns: {id: Won?, x: }\n")
    with pytest.raises(MappingError, match=r"broken\.yaml: not valid YAML at line 3"):
        load_mapping(bad)


def test_duplicate_id_in_one_file_keeps_the_last_line_and_records_the_others(
    mapping, drop, warehouse_db, conn
):
    (drop / "opps.csv").write_text(
        HEADER
        + "o1,first,Ann,Open,1,2024-01-02 10:00\n"  # line 2
        + "o2,other,Bob,Open,2,2024-01-02 10:00\n"  # line 3
        + "o1,second,Ann,Won,3,2024-01-02 10:00\n"  # line 4
        + "o1,third,Ann,Won,4,2024-01-02 10:00\n"  # line 5
    )
    report = import_dir(mapping, drop, warehouse_db)

    assert live_opps(conn)["o1"] == ("third", "ann", "closed_won", Decimal("4.00"))
    assert report.quarantined == 2
    assert rows(
        conn, "select line_number, column_name, value, reason from ops.quarantine order by 1"
    ) == [
        (2, "id", "o1", "duplicate id in this file; line 5 was loaded instead"),
        (4, "id", "o1", "duplicate id in this file; line 5 was loaded instead"),
    ]
