"""Reports end to end on real marts: demo CRM (small) -> extract -> dbt -> emails -> SMTP.

Every message of the run is parsed and checked: recipients, language, images, the XLSX
(sums equal the marts), and scoping (no other rep's name, no other rep's revenue). A report
kind whose marts are not built (yet) must fail with an error naming the missing mart.
"""

from __future__ import annotations

import io
import os
import time
import uuid

import openpyxl
import pytest

from salesperf import config
from salesperf import warehouse as wh
from salesperf.dbt import run_dbt
from salesperf.landing.migrations import migrate
from salesperf.mailcatcher import MailCatcher
from salesperf.reports import data, kinds, outbox
from salesperf.reports.run import run

DEMO_SIZE = os.environ.get("SALESPERF_REPORTS_DEMO_SIZE", "small")

PERIODS = {
    "monthly_appraisal": "2026-09",
    "team_report": "2026-09",
    "reward": None,
    "pacing": None,
    "weekly": "2026-10-19",
    "quarterly": "2026-Q3",
}


@pytest.fixture(scope="module")
def demo(server, _created_dbs, tmp_path_factory):
    """A warehouse with the small demo CRM extracted and the dbt models built."""
    from salesperf import extract
    from salesperf.sources import demo_crm

    t0 = time.monotonic()
    name = f"sp_rep_demo_{uuid.uuid4().hex[:8]}"
    db = wh.create_database(server, name)
    _created_dbs.extend([name, f"{name}_democrm"])
    with wh.connect(db) as conn:
        migrate(conn)
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("DEMO_CRM_URL", raising=False)
        demo_crm.create(DEMO_SIZE, seed=42, warehouse=db)
    extract.run_extract("demo_crm", warehouse=db)
    t1 = time.monotonic()
    # A stable target folder of our own keeps dbt's partial parse between test sessions.
    work = config.LOCAL_DIR / "test_reports_dbt"
    # Models and seeds only (their tests run in test_dbt_build); trends feed no email.
    result = run_dbt(
        ["build", "--exclude-resource-type", "test", "unit_test", "--exclude", "fct_kpi_trends"],
        db, target_path=work / "target", log_path=work / "logs", check=False,
    )  # fmt: skip
    # A model still being written by someone else may fail; each report checks its marts.
    print(result.tail())
    print(f"demo CRM + extract {t1 - t0:.0f}s, dbt {time.monotonic() - t1:.0f}s")
    return db


@pytest.fixture(scope="module")
def delivered(demo, tmp_path_factory):
    """Run every report kind once through a real SMTP server; then run them all again."""
    folder = tmp_path_factory.mktemp("mail")
    results, errors, again = {}, {}, {}
    with wh.connect(demo, autocommit=True) as conn, MailCatcher(folder) as mc:
        smtp = outbox.SmtpSettings.from_uri(
            f"smtp://127.0.0.1:{mc.port}?disable_tls=true&disable_ssl=true"
        )
        for kind, period in PERIODS.items():
            try:
                results[kind] = run(conn, kind, period, smtp=smtp, backoff=0.01)
            except data.MissingMartError as exc:
                errors[kind] = str(exc)
        for kind, period in PERIODS.items():
            if kind in results:
                again[kind] = run(conn, kind, period, smtp=smtp, backoff=0.01)
        messages = mc.messages()
        people = data.fetch(conn, "select * from marts.dim_reps")
        existing = data.existing_relations(conn)
    return {"results": results, "errors": errors, "again": again, "messages": messages,
            "people": people, "existing": existing, "db": demo}  # fmt: skip


def _text(msg) -> str:
    return "\n".join(
        p.get_content() for p in msg.walk() if p.get_content_type() in ("text/plain", "text/html")
    )


def test_each_kind_sends_or_names_its_missing_marts(delivered):
    for kind, msg in delivered["errors"].items():
        missing = [m.strip(",") for m in msg.split("missing ")[1].split(" (")[0].split()]
        assert missing and all(m not in delivered["existing"] for m in missing), (kind, msg)
    for kind, result in delivered["results"].items():
        assert result.send.ok and result.send.sent == result.enqueued, kind
        assert result.built > 0, f"{kind}: no message built from the demo marts"
    total = sum(r.send.sent for r in delivered["results"].values())
    assert len(delivered["messages"]) == total > 0


def test_rerun_sends_nothing_new(delivered):
    for kind, result in delivered["again"].items():
        assert (result.built, result.enqueued, result.send.sent) == (0, 0, 0), kind


def test_recipients_and_language_follow_dim_reps(delivered):
    people = {p["email"]: p for p in delivered["people"]}
    for msg in delivered["messages"]:
        (to,) = msg["To"].addresses
        person = people[to.addr_spec]
        lang = "zh-CN" if person["locale"] == "zh_CN" else "en"
        assert msg["Content-Language"] == lang
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
        envelope = msg["X-Envelope-To"].split(", ")
        assert envelope[0] == to.addr_spec


def test_charts_are_inline_images(delivered):
    for msg in delivered["messages"]:
        html = msg.get_body(("html",)).get_content()
        cids = [p["Content-ID"][1:-1] for p in msg.walk() if p.get_content_type() == "image/png"]
        assert all(f"cid:{c}" in html for c in cids)
        if "cid:" in html:
            assert cids


def test_every_message_holds_only_its_recipients_reps(delivered):
    """No rep's name in a message unless the recipient may see that rep."""
    people = delivered["people"]
    reps = [p for p in people if p["role"] == "rep"]
    by_email = {p["email"]: p for p in people}
    checked = 0
    for msg in delivered["messages"]:
        recipient = by_email[msg["To"].addresses[0].addr_spec]
        allowed = {recipient["rep_name"]}
        if recipient["role"] != "rep":
            allowed |= _team_names(msg, reps)
        text = _text(msg)
        for rep in reps:
            name = rep["rep_name"]
            if name in allowed or any(name in a for a in allowed):
                continue
            assert name not in text, (
                f"{name!r} leaked into {msg['X-Salesperf-Kind']} {msg['Subject']!r}"
            )
        checked += 1
    assert checked == len(delivered["messages"])


def _team_names(msg, reps) -> set[str]:
    """For a manager's team report: the reps in the attached workbook (the team, as-was)."""
    atts = list(msg.iter_attachments())
    names: set[str] = set()
    for att in atts:
        if att.get_filename(" ").endswith(".xlsx"):
            ws = openpyxl.load_workbook(io.BytesIO(att.get_content())).worksheets[0]  # KPIs
            names |= {r[1].value for r in ws.iter_rows(min_row=2)}
    return names


def test_team_xlsx_sums_equal_the_marts(delivered):
    if "team_report" not in delivered["results"]:
        pytest.skip(f"team_report not built: {delivered['errors'].get('team_report')}")
    with wh.connect(delivered["db"], autocommit=True) as conn:
        managers = {p["email"]: p["rep_id"] for p in delivered["people"]}
        n = 0
        for msg in delivered["messages"]:
            xlsx = [a for a in msg.iter_attachments() if a.get_filename("").endswith(".xlsx")]
            if not xlsx:
                continue
            # the first sheet, columns in kinds.TEAM_COLUMNS order (headers are localised)
            ws = openpyxl.load_workbook(io.BytesIO(xlsx[0].get_content())).worksheets[0]
            rows = [
                dict(zip(kinds.TEAM_COLUMNS, [c.value for c in r], strict=True))
                for r in ws.iter_rows(min_row=2)
            ]
            manager_id = managers[msg["To"].addresses[0].addr_spec]
            revenue, deals = conn.execute(
                "select coalesce(sum(revenue), 0), coalesce(sum(deals_won), 0) "
                "from marts.fct_rep_kpis_monthly where manager_id = %s and period_start = %s",
                (manager_id, data.month_start(PERIODS["team_report"])),
            ).fetchone()
            assert sum(float(r["revenue"] or 0) for r in rows) == pytest.approx(float(revenue))
            assert sum(int(r["deals_won"] or 0) for r in rows) == int(deals)
            n += 1
    assert n == delivered["results"]["team_report"].send.sent


def test_preview_renders_html_and_a_real_screenshot(demo, tmp_path):
    """`salesperf preview` on the demo: one rep and one manager email, HTML and PNG."""
    from PIL import Image

    from salesperf.reports import preview

    if preview.chromium() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium); CI installs it")
    with wh.connect(demo, autocommit=True) as conn:
        try:
            paths = preview.build_preview(conn, tmp_path / "preview")
        except data.MissingMartError as exc:
            pytest.fail(f"preview needs marts that the demo build did not produce: {exc}")
    pngs = [p for p in paths if p.suffix == ".png"]
    assert [p.name for p in pngs] == ["rep_appraisal.png", "manager_team_report.png"]
    html = (tmp_path / "preview" / "rep_appraisal.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "cid:" not in html
    for png in pngs:
        img = Image.open(png).convert("RGB")
        assert img.size[0] >= 700 and img.size[1] >= 1000
        colours = img.resize((190, 450)).getcolors(maxcolors=100000)
        assert colours is not None and len(colours) > 50  # text, tables and a chart, not blank


def test_demo_run_covers_both_languages_and_every_kind(delivered):
    built = {k: r.built for k, r in delivered["results"].items()}
    print(built)
    assert set(built) == set(PERIODS) and all(built.values()), (built, delivered["errors"])
    langs = {m["Content-Language"] for m in delivered["messages"]}
    assert langs == {"zh-CN", "en"}
