"""The data-quality alert: one e-mail to the data team per failed validation run, listing the
failed expectations with a few bad rows each.

It goes through the e-mail outbox (``salesperf.reports.outbox``) with the idempotency key
``dq_alert|<recipients>|<run id>``, so a retried task (same run id) never sends it twice,
and is sent through the Airflow SMTP connection ``smtp_default``.
"""

from __future__ import annotations

import html
import os
import re

from salesperf import warehouse as wh
from salesperf.validation.runner import LayerResult

KIND = "dq_alert"
DEFAULT_RECIPIENTS = "data-team@salesperf.local"
ROWS_PER_EXPECTATION = 3
MAX_CELL = 80


def recipients() -> list[str]:
    """The data team: ``SALESPERF_DATA_TEAM_EMAILS`` (comma/semicolon separated)."""
    raw = os.environ.get("SALESPERF_DATA_TEAM_EMAILS") or DEFAULT_RECIPIENTS
    found = [a.strip() for a in re.split(r"[,;\s]+", raw) if a.strip()]
    if not found:
        raise ValueError("SALESPERF_DATA_TEAM_EMAILS names no address")
    return found


def subject(result: LayerResult) -> str:
    names = [s.suite for s in result.failed_suites]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"[salesperf] data-quality check failed: {shown} (run {result.run_id})"


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def _samples(failure: dict) -> list[dict]:
    rows = failure.get("sample_rows")
    if rows:
        return rows[:ROWS_PER_EXPECTATION]
    return [{"value": v} for v in failure.get("sample_values", [])[:ROWS_PER_EXPECTATION]]


def _counts(failure: dict) -> str:
    parts = []
    if "unexpected_count" in failure:
        parts.append(f"{failure['unexpected_count']} unexpected")
    if "observed_value" in failure:
        parts.append(f"observed {failure['observed_value']}")
    return ", ".join(parts)


def render_text(result: LayerResult) -> str:
    lines = [
        f"Validation of the {result.layer} layer failed (run {result.run_id}).",
        "Reports that read these tables are held back until the data is fixed.",
        "",
    ]
    for s in result.failed_suites:
        lines.append(f"* {s.suite} ({s.relation}): {s.failed} of {s.evaluated} expectations failed")
        if s.details.get("error"):
            lines.append(f"  ! {s.details['error']}")
        for f in s.failures:
            extra = _counts(f)
            lines.append(f"  - {f['rule']}" + (f" [{extra}]" if extra else ""))
            if f.get("error"):
                lines.append(f"    error: {f['error']}")
            for row in _samples(f):
                lines.append("    " + ", ".join(f"{k}={_cell(v)}" for k, v in row.items()))
        if s.data_docs:
            lines.append(f"  details: {s.data_docs}")
        lines.append("")
    if result.data_docs_index:
        lines.append(f"Data Docs: {result.data_docs_index}")
    return "\n".join(lines) + "\n"


def render_html(result: LayerResult) -> str:
    e = html.escape
    out = [
        "<html><body style='font-family:sans-serif'>",
        f"<h2>Validation of the {e(result.layer)} layer failed</h2>",
        f"<p>Run <code>{e(result.run_id)}</code>. Reports that read these tables are held back "
        "until the data is fixed.</p>",
    ]
    for s in result.failed_suites:
        out.append(
            f"<h3>{e(s.suite)} <small>({e(s.relation)}): {s.failed} of {s.evaluated} "
            "expectations failed</small></h3>"
        )
        if s.details.get("error"):
            out.append(f"<p style='color:#b00'>{e(s.details['error'])}</p>")
        out.append("<ul>")
        for f in s.failures:
            extra = _counts(f)
            out.append(f"<li><b>{e(f['rule'])}</b>" + (f" — {e(extra)}" if extra else ""))
            if f.get("error"):
                out.append(f"<br><span style='color:#b00'>error: {e(f['error'])}</span>")
            rows = _samples(f)
            if rows:
                cols = list(dict.fromkeys(k for r in rows for k in r))
                out.append("<table border='1' cellpadding='3' style='border-collapse:collapse'>")
                out.append("<tr>" + "".join(f"<th>{e(str(c))}</th>" for c in cols) + "</tr>")
                for r in rows:
                    out.append(
                        "<tr>" + "".join(f"<td>{e(_cell(r.get(c)))}</td>" for c in cols) + "</tr>"
                    )
                out.append("</table>")
            out.append("</li>")
        out.append("</ul>")
        if s.data_docs:
            out.append(f"<p>Details: <code>{e(s.data_docs)}</code></p>")
    if result.data_docs_index:
        out.append(f"<p>Data Docs: <code>{e(result.data_docs_index)}</code></p>")
    out.append("</body></html>")
    return "\n".join(out)


def build_message(result: LayerResult, to: list[str]):
    from salesperf.reports import outbox

    addresses = [outbox.address("Data team", a) for a in to]
    msg = outbox.new_message(subject=subject(result), to=addresses[0], cc=addresses[1:] or None)
    msg.set_content(render_text(result))
    msg.add_alternative(render_html(result), subtype="html")
    return msg


def enqueue_alert(conn, result: LayerResult, to: list[str] | None = None) -> bool:
    """Queue the alert once per (recipients, run id); True if newly queued."""
    from salesperf.reports import outbox

    if result.success:
        raise ValueError("no alert for a successful validation run")
    to = to or recipients()
    msg = build_message(result, to)
    return outbox.enqueue(
        conn, KIND, ",".join(sorted(to)), to[0], result.run_id, subject(result), msg
    )


def send_alert(result: LayerResult, to: list[str] | None = None, warehouse=None) -> str:
    """Queue the alert (idempotent) and send pending alerts via ``smtp_default``."""
    from salesperf.reports import outbox

    with wh.connect(warehouse or wh.resolve(), autocommit=True) as conn:
        new = enqueue_alert(conn, result, to)
        report = outbox.send_pending(conn, kinds=[KIND])
    state = "queued" if new else "already queued"
    report.raise_for_failures()
    return f"data-quality alert {state}; outbox: {report.summary()}"
