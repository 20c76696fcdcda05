"""Templates to MIME: HTML (CSS inlined) + plain text, inline PNG charts, attachments.

Jinja2 autoescapes every value in the HTML templates, so CRM text (names, titles, reasons)
is always shown as text; headers are built by :mod:`salesperf.reports.outbox`, which strips
CR/LF. Both environments are created once per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import jinja2

from salesperf import config
from salesperf.reports import outbox
from salesperf.reports.i18n import Lang

TEMPLATE_DIR = Path(__file__).with_name("templates")
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@functools.cache
def _env(kind: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=(kind == "html"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


@functools.cache
def _css() -> str:
    return (TEMPLATE_DIR / "email.css").read_text(encoding="utf-8")


@functools.cache
def _css_rules() -> list[tuple[object, str]]:
    """(compiled XPath, declarations) for every selector of email.css, in cascade order.

    Parsed once per process: inlining then costs one XPath query per selector per email
    (premailer re-parses and re-serialises the CSS for every message, ~50 ms each)."""
    import re

    from cssselect import GenericTranslator, parse
    from lxml import etree

    rules = []
    text = re.sub(r"/\*.*?\*/", "", _css(), flags=re.S)
    for order, (selectors, body) in enumerate(re.findall(r"([^{}]+)\{([^{}]*)\}", text)):
        decls = "; ".join(d.strip() for d in body.split(";") if d.strip())
        for sel in selectors.split(","):
            sel = sel.strip()
            spec = parse(sel)[0].specificity()
            xpath = etree.XPath(GenericTranslator().css_to_xpath(sel))
            rules.append((spec, order, xpath, decls))
    rules.sort(key=lambda r: (r[0], r[1]))
    return [(xpath, decls) for _spec, _order, xpath, decls in rules]


def inline_css(html: str) -> str:
    """Apply email.css as inline ``style`` attributes (mail clients drop <style> blocks).

    Later/more specific rules come last, so they win; an element's own style wins over all."""
    from lxml import html as lhtml

    doc = lhtml.document_fromstring(html)
    styles: dict = {}
    for xpath, decls in _css_rules():
        for el in xpath(doc):
            styles.setdefault(el, []).append(decls)
    for el, parts in styles.items():
        own = el.get("style")
        el.set("style", "; ".join([*parts, own] if own else parts))
    return "<!DOCTYPE html>\n" + lhtml.tostring(doc, encoding="unicode")


@dataclass
class Rendered:
    subject: str
    html: str
    text: str
    images: dict[str, bytes] = field(default_factory=dict)  # cid name -> png
    attachments: list[tuple[str, bytes, tuple[str, str]]] = field(default_factory=list)


def render(
    template: str, lang: Lang, ctx: dict, images: dict[str, bytes] | None = None
) -> Rendered:
    """Render ``<template>.html.j2`` and ``<template>.txt.j2`` with ``ctx``.

    Images are referenced in the HTML as ``cid:{{ cid.<name> }}``; the cids are made here.
    """
    images = images or {}
    cids = {name: make_msgid(domain="salesperf.local")[1:-1] for name in images}
    company = config.company_settings()["company_name"]
    full = {"company": company, **ctx, "L": lang, "t": lang.t, "cid": cids}
    html = _env("html").get_template(f"{template}.html.j2").render(**full)
    text = _env("text").get_template(f"{template}.txt.j2").render(**full)
    r = Rendered(subject=ctx["subject"], html=inline_css(html), text=text)
    r.images = {cids[name]: png for name, png in images.items()}
    return r


def to_message(
    r: Rendered,
    *,
    to,
    cc=None,
    lang: Lang,
    from_addr=None,
) -> EmailMessage:
    """multipart/mixed( alternative(text, related(html, png...)), attachments... )."""
    msg = outbox.new_message(subject=r.subject, to=to, cc=cc, from_addr=from_addr)
    msg.set_content(r.text, subtype="plain", charset="utf-8")
    msg.add_alternative(r.html, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]
    for cid, png in r.images.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>")
    for filename, data, (maintype, subtype) in r.attachments:
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    msg["Content-Language"] = lang.locale.replace("_", "-")  # after set_content, which drops it
    return msg
