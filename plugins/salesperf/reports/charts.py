"""Charts as PNG bytes (matplotlib, Agg backend, no pyplot state).

Rendering speed matters (every rep gets a trend chart, every manager a leaderboard and a
funnel): these charts draw their axes once and then only blit the bars, names and numbers
onto the cached background; the trend chart once per run, the leaderboard and the funnel
once per shape (bar count, label width, axis), kept in a small cache per thread.
Chart text stays language-neutral (months as ``2026-10``, numbers, rank numbers) unless a
CJK font is installed, so no label ever renders as empty boxes.
"""

from __future__ import annotations

import functools
import io
import math
import threading
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402
from matplotlib.transforms import ScaledTranslation  # noqa: E402
from PIL import Image  # noqa: E402

BLUE, RED, GREY, GREEN = "#4e79a7", "#e15759", "#9a9a9a", "#59a14f"
DARK = "#333333"
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


class _Blitted:
    """A chart whose axes, ticks and fixed labels are drawn once; each call only restores
    that background and draws its animated artists (bars, names, numbers) onto it."""

    def _freeze(self) -> None:
        self.fig.canvas.draw()
        self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def _draw(self, artists) -> bytes:
        self.fig.canvas.restore_region(self.background)
        for artist in artists:
            self.ax.draw_artist(artist)
        return _buffer_png(self.fig)


class TrendChart(_Blitted):
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
        # a month above the axis' end is drawn to it and says its value on the bar
        self.over = [
            ax.text(i, self.YMAX - 14, "", ha="center", va="top", color="white", fontsize=7,
                    animated=True)
            for i in range(self.n)
        ]  # fmt: skip
        ax.axhline(100, color=GREY, lw=1, ls="--")
        ax.set_xticks(range(self.n), months)
        ax.set_ylim(0, self.YMAX)
        ax.set_yticks([0, 50, 100, 150], ["0%", "50%", "100%", "150%"])
        self.fig.tight_layout()
        self._freeze()

    def render(self, attainment: list[float | None]) -> bytes:
        """A month without attainment (no target) has no bar and no point: the line breaks
        there instead of dropping to 0 %, which is what a month with nothing won shows."""
        pcts = [float(v) * 100 if v is not None else math.nan for v in attainment]
        vals = [p if math.isnan(p) else min(p, self.YMAX) for p in pcts]
        for bar, v in zip(self.bars, vals, strict=True):
            bar.set_height(0.0 if math.isnan(v) else v)
        self.line.set_ydata(vals)
        over = []  # only capped months' labels are set and drawn
        for t, p in zip(self.over, pcts, strict=True):
            if p > self.YMAX:
                t.set_text(f"{p:,.0f}%")
                over.append(t)
        return self._draw([*self.bars, self.line, *over])


CACHE_SIZE = 32
SCORE_MAX = 150.0
_LOCAL = threading.local()


def _cache() -> dict[tuple, _Blitted]:
    """This thread's drawn charts, least recently used first (about 2 MB each for a team of
    ten: 64 MB at most). One per thread: a figure drawn from two threads at once mixes
    their bars."""
    try:
        return _LOCAL.charts
    except AttributeError:
        _LOCAL.charts = {}
        return _LOCAL.charts


def _cached(key: tuple, build) -> _Blitted:
    cache = _cache()
    chart = cache.pop(key, None)
    if chart is None:
        chart = build()
        while len(cache) >= CACHE_SIZE:
            cache.pop(next(iter(cache)))
    cache[key] = chart
    return chart


def _score_axis(values: list[float]) -> tuple[float, float]:
    """The score axis: 0-150 (the scores' own range: dbt clamps every KPI score to it), or
    widened in steps of 25 to hold any value outside it. One scale for every team reads
    better, and teams of the same size share one drawn figure."""
    hi = max(values + [SCORE_MAX])
    lo = min(values + [0.0])
    return (math.floor(lo / 25) * 25, math.ceil(hi / 25) * 25)


def _widest(labels) -> int:
    """Characters in the longest label, CJK glyphs counted twice (they are twice as wide)."""
    return max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in str(t)) for t in labels), default=1)


def _margin_inches(widest: int) -> float:
    """Width a tick label of ``widest`` characters needs at font size 8."""
    return 0.2 + 0.062 * widest


def _label_inches(labels) -> float:
    return _margin_inches(_widest(labels))


class _Leaderboard(_Blitted):
    def __init__(self, n: int, widest: int, xlim: tuple[float, float], axis: str):
        self.fig, self.ax = _figure(5.2, 0.35 * n + 0.8)
        ax = self.ax
        y = list(range(n))[::-1]
        self.bars = ax.barh(y, [xlim[1]] * n, color=BLUE, animated=True)
        ax.set_yticks(y, [""] * n)
        ax.set_xlim(*xlim)
        ax.set_xlabel(axis, fontsize=8)
        # Names where matplotlib puts tick labels: tick length + pad (3.5 + 3.5 pt) left of
        # the axis.
        to_label = ax.get_yaxis_transform() + ScaledTranslation(
            -7 / 72, 0, self.fig.dpi_scale_trans
        )
        self.names = [
            ax.text(
                0, yi, "", transform=to_label, ha="right", va="center", fontsize=8, animated=True
            )
            for yi in y
        ]
        _fixed_layout(self.fig, left=_margin_inches(widest), bottom=0.5)
        self._freeze()

    def render(self, labels: list[str], scores: list[float], highlight: int | None) -> bytes:
        for i, (bar, text, name, score) in enumerate(
            zip(self.bars, self.names, labels, scores, strict=True)
        ):
            bar.set_width(score)
            bar.set_color(RED if i == highlight else BLUE)
            text.set_text(name)
        return self._draw([*self.bars, *self.names])


def leaderboard(
    names: list[str], scores: list[float], highlight: int | None = None, axis: str = "score"
) -> bytes:
    """Horizontal bars of the reps' total scores, best first, on a score axis from 0
    titled ``axis`` (the reader's word for score)."""
    axis = label(axis, "score")
    if not names:
        fig, ax = _figure(5.2, 1.15)
        ax.set_xlabel(axis, fontsize=8)
        _fixed_layout(fig, bottom=0.5)
        return _png(fig)
    labels = [label(nm, f"#{i + 1}") for i, nm in enumerate(names)]
    values = [float(s or 0) for s in scores]
    xlim = _score_axis(values)
    # Label widths rounded up to 4 characters: a little more margin, far fewer figures.
    widest = math.ceil(_widest(labels) / 4) * 4
    chart = _cached(
        ("leaderboard", len(labels), widest, xlim, axis),
        lambda: _Leaderboard(len(labels), widest, xlim, axis),
    )
    return chart.render(labels, values, highlight)


class _Funnel(_Blitted):
    def __init__(self, labels: tuple[str, ...]):
        n = len(labels)
        self.fig, self.ax = _figure(5.2, 0.4 * n + 0.8)
        ax = self.ax
        y = list(range(n))[::-1]
        # Widths as a share of the widest stage, each bar centred on 0.5.
        self.bars = ax.barh(y, [1.0] * n, color=BLUE, animated=True)
        self.numbers = [
            ax.text(0.5, yi, "", ha="center", va="center", color="white", fontsize=8, animated=True)
            for yi in y
        ]
        ax.set_xlim(0, 1)
        ax.set_yticks(y, labels)
        ax.set_xticks([])
        ax.spines["bottom"].set_visible(False)
        _fixed_layout(self.fig, left=_label_inches(labels), bottom=0.1)
        self._freeze()

    def render(self, entries: list[float]) -> bytes:
        top = max(entries + [1.0])
        axes_px = self.ax.bbox.width
        for bar, text, w in zip(self.bars, self.numbers, entries, strict=True):
            share = w / top
            bar.set_x((1 - share) / 2)
            bar.set_width(share)
            number = f"{w:,.0f}"
            text.set_text(number)
            # White on the bar where it fits (about 6 px a character at size 8), else dark,
            # just right of the bar: a stage with few entries still shows its count.
            if share * axes_px >= 6 * len(number) + 8:
                text.set(x=0.5, ha="center", color="white")
            else:
                text.set(x=0.5 + share / 2 + 0.01, ha="left", color=DARK)
        return self._draw([*self.bars, *self.numbers])


def funnel(stages: list[str], entries: list[int], fallbacks: Sequence[str] | None = None) -> bytes:
    """One centred bar per stage, as wide as its entries, with the count written on it.
    A stage name the fonts cannot draw shows its ``fallbacks`` entry (e.g. the English
    name), else "stage N"."""
    if not stages:
        fig, ax = _figure(5.2, 1.2)
        ax.set_xticks([])
        _fixed_layout(fig, bottom=0.1)
        return _png(fig)
    fallbacks = fallbacks or [f"stage {i + 1}" for i in range(len(stages))]
    labels = tuple(label(s, f) for s, f in zip(stages, fallbacks, strict=True))
    chart = _cached(("funnel", labels), lambda: _Funnel(labels))
    return chart.render([float(e or 0) for e in entries])


PACING_NAMES = ("target", "expected", "actual", "projected")


def pacing(
    target: float,
    expected: float,
    actual: float,
    projected: float | None,
    names: Sequence[str] = PACING_NAMES,
) -> bytes:
    """Target, expected to date, actual and projected finish as bars; ``names`` labels
    them in that order (the reader's words)."""
    fig, ax = _figure(5.2, 1.6)
    vals = [float(target or 0), float(expected or 0), float(actual or 0)]
    if projected is not None:
        vals.append(float(projected))
    names = [label(n, d) for n, d in zip(names, PACING_NAMES, strict=True)][: len(vals)]
    colors = [GREY, GREY, RED if vals[2] < vals[1] else GREEN, BLUE][: len(vals)]
    y = list(range(len(vals)))[::-1]
    ax.barh(y, vals, color=colors)
    ax.set_yticks(y, names)
    # amounts as amounts (1,000,000), not "0.0 … 1.2" and "1e6" in the corner
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{round(v):,}"))
    if not any(vals):  # nothing yet: an axis from 0, not one around it
        ax.set_xlim(0, 1)
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
