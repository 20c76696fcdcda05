"""Fuzzing the file import (hypothesis) against a real PostgreSQL.

Each example is a CSV file of well-formed "good" rows (Chinese and formula-looking text,
quotes, commas, line breaks inside fields) mixed with hostile lines: random bytes, embedded
NULs, undecodable bytes, huge fields, ragged rows, unparseable values, in a random encoding.
Properties: the importer never crashes (at most a one-line FileImportError); every good row
lands with exactly its values; every line of the file is either loaded or quarantined.
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesperf.sources.file_mapping import slug
from salesperf.sources.files import FileImportError, import_dir

MAX_FIELD = 3000
MAPPING = f"""
source: fuzz
defaults: {{encoding: auto, timezone: UTC, max_field_chars: {MAX_FIELD}}}
files:
  - pattern: "*_gbk.csv"    # short GBK text can be valid UTF-8, so GBK exports declare it
    encoding: gbk
    entity: opportunities
    columns: &columns
      id: id
      name: name
      owner_id: {{from: owner, transform: slug}}
      stage: {{from: stage, map: {{Open: prospecting, Won: closed_won, Lost: closed_lost}}, unmapped: error}}
      amount: amount
      created_at: {{from: created, format: "%Y-%m-%d %H:%M:%S"}}
  - pattern: "*_utf8.csv"  # a file with a few broken bytes and little non-ASCII text
    encoding: utf-8         # could look like GB18030 to "auto"
    entity: opportunities
    columns: *columns
  - pattern: "*.xlsx"
    entity: opportunities
    columns: *columns
  - pattern: "*.csv"        # auto: the BOM decides
    entity: opportunities
    columns: *columns
"""
HEADER = ["id", "name", "owner", "stage", "amount", "created"]

# Text every encoding under test can carry (GBK has no emoji or accented Latin).
CHINESE = "王伟李娜张三丰欧阳明华东销售额客户赢单"
TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ 019,;\"'\n=|@+-!()" + CHINESE)), min_size=1, max_size=40
)
FORMULA = st.sampled_from(
    ["", "=cmd|' /C calc'!A0", '=HYPERLINK("http://x")', "@SUM(A1)", "+1", "-2"]
)

good_rows = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.tuples(FORMULA, TEXT).map("".join).filter(lambda s: s.strip()),
            "owner": st.text(alphabet="abcdefg王伟 ", min_size=1, max_size=12).filter(
                lambda s: slug(s)
            ),
            "stage": st.sampled_from(["Open", "Won", "Lost"]),
            "amount": st.decimals(min_value=0, max_value=10**9, places=2),
            "created": st.datetimes(
                min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)
            ).map(lambda d: d.replace(microsecond=0)),
        }
    ),
    min_size=1,
    max_size=12,
)


def _row(g: dict, i: str) -> list[str]:
    return [
        i,
        g["name"],
        g["owner"],
        g["stage"],
        str(g["amount"]),
        g["created"].strftime("%Y-%m-%d %H:%M:%S"),
    ]


def _csv_line(fields: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(fields)
    return buf.getvalue()


NO_QUOTE_OR_NEWLINE = st.binary(min_size=1, max_size=120).map(
    lambda b: b.replace(b'"', b"").replace(b"\n", b"").replace(b"\r", b"") or b"?"
)
# Hostile lines, as functions of (line id, encoding) -> bytes of one line.
BAD_LINE = st.one_of(
    NO_QUOTE_OR_NEWLINE.map(lambda b: lambda i, enc: b + b"\r\n"),  # random bytes
    st.just(
        lambda i, enc: _csv_line(
            [i, "nul\x00here", "ann", "Open", "1", "2024-01-01 00:00:00"]
        ).encode(enc)
    ),
    st.just(
        lambda i, enc: _csv_line(
            [i, "x" * (MAX_FIELD + 1), "ann", "Open", "1", "2024-01-01 00:00:00"]
        ).encode(enc)
    ),
    st.just(lambda i, enc: _csv_line([i, "short", "ann"]).encode(enc)),  # ragged
    st.just(
        lambda i, enc: _csv_line(
            [i, "a", "ann", "Open", "1", "2024-01-01 00:00:00", "extra"]
        ).encode(enc)
    ),
    st.just(
        lambda i, enc: _csv_line([i, "a", "ann", "Open", "1,0.0.1", "2024-01-01 00:00:00"]).encode(
            enc
        )
    ),
    st.just(lambda i, enc: _csv_line([i, "a", "ann", "Open", "1", "31/12/2024"]).encode(enc)),
    st.just(
        lambda i, enc: _csv_line([i, "a", "ann", "Maybe", "1", "2024-01-01 00:00:00"]).encode(enc)
    ),
    st.just(lambda i, enc: _csv_line([i, "a", "", "Open", "1", "2024-01-01 00:00:00"]).encode(enc)),
    st.just(
        lambda i, enc: f"{i},bad \xff byte,ann,Open,1,2024-01-01 00:00:00\r\n".encode("latin-1")
    ),
)

_counter = itertools.count()


@pytest.mark.slow
@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    good=good_rows,
    bad=st.lists(BAD_LINE, max_size=8),
    order=st.randoms(use_true_random=False),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]),
)
def test_importer_never_crashes_and_never_loses_a_good_row(
    tmp_path, warehouse_db, conn, good, bad, order, encoding
):
    n = next(_counter)
    folder = tmp_path / f"ex{n}"
    folder.mkdir()
    mapping = tmp_path / "fuzz.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")

    line_enc = "gbk" if encoding == "gbk" else "utf-8"  # the BOM starts the file, not each line
    lines = [("good", _csv_line(_row(g, f"g{n}_{k}")).encode(line_enc)) for k, g in enumerate(good)]
    lines += [("bad", make(f"b{n}_{k}", line_enc)) for k, make in enumerate(bad)]
    order.shuffle(lines)
    body = _csv_line(HEADER).encode("utf-8") + b"".join(b for _, b in lines)
    if encoding == "utf-8-sig":
        body = b"\xef\xbb\xbf" + body
    (folder / f"fuzz_{n}_{encoding.replace('-', '')}.csv").write_bytes(body)

    try:
        report = import_dir(mapping, folder, warehouse_db, archive=False)
    except FileImportError as exc:  # allowed: a clear one-line error, and nothing loaded
        assert "\n" not in str(exc)
        assert (
            conn.execute(
                "select count(*) from raw.opportunities where id like %s", (f"g{n}_%",)
            ).fetchone()[0]
            == 0
        )
        return

    res = report.files[0]
    assert res.status == "loaded", res
    got = {
        r[0]: r[1:]
        for r in conn.execute(
            "select id, name, owner_id, stage, amount, created_at at time zone 'UTC' "
            "from raw.opportunities where _batch_id = %s",
            (res.batch_id,),
        )
    }
    stage = {"Open": "prospecting", "Won": "closed_won", "Lost": "closed_lost"}
    for k, g in enumerate(good):
        assert got.get(f"g{n}_{k}") == (
            g["name"].strip(),
            slug(g["owner"]),
            stage[g["stage"]],
            Decimal(g["amount"]).quantize(Decimal("0.01")),
            g["created"],
        )
    quarantined = conn.execute(
        "select count(*) from ops.quarantine where batch_id = %s", (res.batch_id,)
    ).fetchone()[0]
    assert quarantined == res.quarantined
    assert res.rows_in == len(got) + quarantined  # every line: loaded or quarantined


XLSX_BAD_ROW = st.sampled_from(
    [
        lambda i: [i, "a", "ann", "Open", "lots", datetime(2024, 1, 1)],  # not a number
        lambda i: [i, "a", "ann", "Open", 1, "yesterday"],  # not a date
        lambda i: [i, "a", None, "Open", 1, datetime(2024, 1, 1)],  # no owner
        lambda i: [i, "a", "ann", "Perhaps", 1, datetime(2024, 1, 1)],  # unknown stage
        lambda i: [i, "a", "ann", "Open", 1, datetime(2024, 1, 1), "extra cell"],  # ragged
        lambda i: [i, "y" * (MAX_FIELD + 1), "ann", "Open", 1, datetime(2024, 1, 1)],  # huge
        lambda i: [i, "a", "ann", "Open", 10**30, datetime(2024, 1, 1)],  # too large
    ]
)


@pytest.mark.slow
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    good=good_rows, bad=st.lists(XLSX_BAD_ROW, max_size=5), order=st.randoms(use_true_random=False)
)
def test_xlsx_import_never_loses_a_good_row(tmp_path, warehouse_db, conn, good, bad, order):
    import openpyxl

    n = next(_counter)
    mapping = tmp_path / "fuzz.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    folder = tmp_path / f"x{n}"
    folder.mkdir()
    rows = [
        ["good", [f"g{n}_{k}", g["name"], g["owner"], g["stage"], float(g["amount"]), g["created"]]]
        for k, g in enumerate(good)
    ]
    rows += [["bad", make(f"b{n}_{k}")] for k, make in enumerate(bad)]
    order.shuffle(rows)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for _, r in rows:
        ws.append(r)
    wb.save(folder / f"fuzz_{n}.xlsx")

    report = import_dir(mapping, folder, warehouse_db, archive=False)

    res = report.files[0]
    assert res.status == "loaded", res
    got = {
        r[0]: r[1:]
        for r in conn.execute(
            "select id, name, amount, created_at at time zone 'UTC' from raw.opportunities where _batch_id = %s",
            (res.batch_id,),
        )
    }
    for k, g in enumerate(good):
        assert got[f"g{n}_{k}"] == (
            g["name"].strip(),
            Decimal(g["amount"]).quantize(Decimal("0.01")),
            g["created"],
        )
    assert set(got) == {f"g{n}_{k}" for k in range(len(good))}
    assert res.quarantined == len(bad)
