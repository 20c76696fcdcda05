"""Charts as PNG bytes (matplotlib, Agg backend, no pyplot state).

Rendering speed matters (every rep gets a trend chart): the per-rep trend chart draws its
axes once per run and then only blits the bars and the line onto the cached background.
Chart text stays language-neutral (months as ``2026-10``, numbers, rank numbers) unless a
CJK font is installed, so no label ever renders as empty boxes.
"""

from __future__ import annotations

import functools
import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

BLUE, RED, GREY, GREEN = "#4e79a7", "#e15759", "#9a9a9a", "#59a14f"
DPI = 80


CJK_FONT_NAMES = ("Noto Sans CJK", "Noto Sans SC", "WenQuanYi", "Source Han", "SimHei")
CJK_FONT_GLOBS = ("**/wqy-*.tt?", "**/NotoSansCJK*.tt?", "**/NotoSansSC*.?tf", "**/SourceHan*.?t?")


@functools.cache
def cjk_font() -> str | None:
    """Name of an installed font with Chinese glyphs, or None.

    Fonts installed after matplotlib built its font cache are found on disk and added."""
    from pathlib import Path

    from matplotlib import font_manager

    def known() -> str | None:
        for f in font_manager.fontManager.ttflist:
            if any(k in f.name for k in CJK_FONT_NAMES):
                return f.name
        return None

    if known():
        return known()
    for root in ("/usr/share/fonts", "/usr/local/share/fonts"):
        for pattern in CJK_FONT_GLOBS:
            for path in Path(root).glob(pattern):
                try:
                    font_manager.fontManager.addfont(str(path))
                except (OSError, RuntimeError, ValueError):
                    continue
    return known()


def label(text: str, fallback: str) -> str:
    """``text`` when it can be drawn (ASCII, or a CJK font exists), else ``fallback``."""
    text = " ".join(str(text or "").split())  # no control characters in a label
    if text.isascii() or cjk_font():
        return text
    return fallback


def _figure(w: float, h: float) -> tuple[Figure, object]:
    fig = Figure(figsize=(w, h), dpi=DPI)
    FigureCanvasAgg(fig)
    if cjk_font():
        matplotlib.rcParams["font.sans-serif"] = [cjk_font(), "DejaVu Sans"]
    ax = fig.add_subplot()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)
    return fig, ax


def _label_inches(labels) -> float:
    """Width the longest tick label needs at font size 8 (CJK glyphs are twice as wide)."""
    widest = max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(t)) for t in labels), default=1)
    return 0.2 + 0.062 * widest


def _fixed_layout(fig: Figure, *, left: float = 0.45, bottom: float = 0.35) -> None:
    """Margins in inches, set directly: ``tight_layout`` measures every tick label's text
    extent and cost more than drawing the chart (about 20 ms a chart)."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(
        left=min(left / w, 0.6), right=1 - 0.15 / w, bottom=min(bottom / h, 0.5), top=1 - 0.1 / h
    )


def _png(fig: Figure) -> bytes:
    fig.canvas.draw()
    return _buffer_png(fig)


def _buffer_png(fig: Figure) -> bytes:
    w, h = fig.canvas.get_width_height()
    img = Image.frombuffer("RGBA", (w, h), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    img.convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()


class TrendChart:
    """Monthly attainment (bars, % of target, 0-150 %) with a 100 % line; one per run."""

    YMAX = 150.0

    def __init__(self, months: list[str]):
        self.n = len(months)
        self.fig, self.ax = _figure(4.8, 2.0)
        ax = self.ax
        self.bars = ax.bar(range(self.n), [0] * self.n, color=BLUE, animated=True, width=0.6)
        (self.line,) = ax.plot(
            range(self.n), [0] * self.n, color=RED, marker="o", lw=1.5, animated=True
        )
        ax.axhline(100, color=GREY, lw=1, ls="--")
        ax.set_xticks(range(self.n), months)
        ax.set_ylim(0, self.YMAX)
        ax.set_yticks([0, 50, 100, 150], ["0%", "50%", "100%", "150%"])
        self.fig.tight_layout()
        self.fig.canvas.draw()
        self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def render(self, attainment: list[float | None]) -> bytes:
        vals = [min(float(v) * 100, self.YMAX) if v is not None else 0.0 for v in attainment]
        self.fig.canvas.restore_region(self.background)
        for bar, v in zip(self.bars, vals, strict=True):
            bar.set_height(v)
            self.ax.draw_artist(bar)
        self.line.set_ydata(vals)
        self.ax.draw_artist(self.line)
        return _buffer_png(self.fig)


def leaderboard(names: list[str], scores: list[float], highlight: int | None = None) -> bytes:
    n = max(len(names), 1)
    fig, ax = _figure(5.2, 0.35 * n + 0.8)
    y = list(range(len(names)))[::-1]
    colors = [RED if i == highlight else BLUE for i in range(len(names))]
    ax.barh(y, [float(s or 0) for s in scores], color=colors)
    labels = [label(nm, f"#{i + 1}") for i, nm in enumerate(names)]
    ax.set_yticks(y, labels)
    ax.set_xlabel("score", fontsize=8)
    _fixed_layout(fig, left=_label_inches(labels), bottom=0.5)
    return _png(fig)


def funnel(stages: list[str], entries: list[int]) -> bytes:
    n = max(len(stages), 1)
    fig, ax = _figure(5.2, 0.4 * n + 0.8)
    y = list(range(len(stages)))[::-1]
    top = max([float(e or 0) for e in entries] + [1.0])
    widths = [float(e or 0) for e in entries]
    ax.barh(y, widths, left=[(top - w) / 2 for w in widths], color=BLUE)
    for yi, w in zip(y, widths, strict=True):
        ax.text(top / 2, yi, f"{w:,.0f}", ha="center", va="center", color="white", fontsize=8)
    labels = [label(s, f"stage {i + 1}") for i, s in enumerate(stages)]
    ax.set_yticks(y, labels)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    _fixed_layout(fig, left=_label_inches(labels), bottom=0.1)
    return _png(fig)


def pacing(target: float, expected: float, actual: float, projected: float | None) -> bytes:
    fig, ax = _figure(5.2, 1.6)
    vals = [float(target or 0), float(expected or 0), float(actual or 0)]
    names = ["target", "expected", "actual"]
    if projected is not None:
        vals.append(float(projected))
        names.append("projected")
    colors = [GREY, GREY, RED if vals[2] < vals[1] else GREEN, BLUE][: len(vals)]
    y = list(range(len(vals)))[::-1]
    ax.barh(y, vals, color=colors)
    ax.set_yticks(y, names)
    _fixed_layout(fig, left=_label_inches(names))
    return _png(fig)


def counts(labels: list[str], values: list[float]) -> bytes:
    fig, ax = _figure(4.8, 1.8)
    ax.bar(range(len(values)), [float(v or 0) for v in values], color=BLUE)
    ax.set_xticks(range(len(labels)), [label(s, s) for s in labels])
    _fixed_layout(fig)
    return _png(fig)


def distribution(labels: list[str], values: list[float]) -> bytes:
    return counts(labels, values)
