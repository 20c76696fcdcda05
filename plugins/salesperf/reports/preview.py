"""`salesperf preview`: one rep and one manager email of the demo as HTML and PNG.

The messages are built exactly as for sending (same builders, same MIME), then the HTML
part is written with its inline images as data: URIs, and headless Chromium (the Debian
``chromium`` package; no downloaded browser) takes a screenshot of each.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
from pathlib import Path

from salesperf import config
from salesperf.reports import data, kinds

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")


class PreviewError(RuntimeError):
    pass


def chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def latest_month(conn) -> str:
    data.require(conn, "preview", ["fct_appraisal_summary"])
    cols = data.columns(conn, "marts.fct_appraisal_summary")
    query = "select max(period_start) from marts.fct_appraisal_summary where period_type = 'month'"
    if "is_period_closed" in cols:
        query += " and is_period_closed"
    row = conn.execute(query).fetchone()
    if row[0] is None:
        raise PreviewError("no monthly appraisal in marts.fct_appraisal_summary yet")
    return data.month_label(row[0])


def html_with_images(msg) -> str:
    """The HTML part with every ``cid:`` reference replaced by a data: URI."""
    html = msg.get_body(("html",)).get_content()
    for part in msg.walk():
        cid = part.get("Content-ID")
        if cid and part.get_content_type().startswith("image/"):
            b64 = base64.b64encode(part.get_content()).decode()
            html = html.replace(f"cid:{cid[1:-1]}", f"data:{part.get_content_type()};base64,{b64}")
    return html


def screenshot(html_path: Path, png_path: Path, width: int = 760, height: int = 1800) -> Path:
    exe = chromium()
    if exe is None:
        raise PreviewError("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="salesperf-chromium-") as profile:
        cmd = [
            exe, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
            f"--window-size={width},{height}", f"--screenshot={png_path}",
            html_path.resolve().as_uri(),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0 or not png_path.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise PreviewError(f"chromium screenshot failed (exit {proc.returncode}): {tail}")
    return png_path


def page_height(html: str) -> int:
    """About how tall the rendered email is (Chromium's CLI has no full-page screenshot)."""
    est = 500 + 45 * html.count("<tr") + 330 * html.count("<img") + 60 * html.count("<h2")
    return max(1000, min(8000, est))


def build_preview(conn, out_dir: Path | None = None, period: str | None = None,
                  png: bool = True) -> list[Path]:  # fmt: skip
    """Write rep_appraisal.{eml,html,png} and manager_team_report.{eml,html,png}."""
    out = Path(out_dir or config.LOCAL_DIR / "preview")
    out.mkdir(parents=True, exist_ok=True)
    period = period or latest_month(conn)
    written: list[Path] = []
    for kind, stem in (
        ("monthly_appraisal", "rep_appraisal"),
        ("team_report", "manager_team_report"),
    ):
        first = next(iter(kinds.build(conn, kind, period)), None)
        if first is None:
            raise PreviewError(f"no {kind} email for {period}: no recipient in the marts")
        (out / f"{stem}.eml").write_bytes(first.message.as_bytes())
        html_path = out / f"{stem}.html"
        html_path.write_text(html_with_images(first.message), encoding="utf-8")
        written += [out / f"{stem}.eml", html_path]
        if png:
            height = page_height(html_path.read_text(encoding="utf-8"))
            written.append(screenshot(html_path, out / f"{stem}.png", height=height))
    return written
