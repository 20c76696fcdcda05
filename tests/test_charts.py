"""Charts drawn once and reused: each PNG must show its own data, never the last chart's.

The leaderboard and the funnel keep one drawn figure per shape and only redraw their bars
and labels (see ``charts._Blitted``); these tests read the bars back from the PNG pixels.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image, ImageChops

from salesperf.reports import charts

BLUE = (0x4E, 0x79, 0xA7)
RED = (0xE1, 0x57, 0x59)


@pytest.fixture(autouse=True)
def empty_cache():
    charts._cache().clear()
    yield
    charts._cache().clear()


def _bars(png: bytes, colours=(BLUE, RED), vertical=False) -> list[tuple[int, int, tuple]]:
    """(first x, length, colour) of each horizontal bar, top to bottom; with ``vertical``,
    (first y from the top, height, colour) of each vertical bar, left to right."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    if vertical:
        img = img.transpose(Image.Transpose.TRANSPOSE)
    w, h = img.size
    px = img.load()
    bars, in_bar = [], False
    for y in range(h):
        row = [(x, px[x, y]) for x in range(w) if px[x, y] in colours]
        if row and not in_bar:
            bars.append((row[0][0], len(row), row[0][1]))
        elif row:
            first, length, colour = bars[-1]
            bars[-1] = (min(first, row[0][0]), max(length, len(row)), colour)
        in_bar = bool(row)
    return [b for b in bars if b[1] > 2]  # a bar of 0 leaves a pixel of anti-aliasing


def test_leaderboard_bars_follow_each_teams_scores_on_a_reused_figure():
    first = charts.leaderboard(["Ann", "Bo", "Cy"], [100, 50, 25])
    second = charts.leaderboard(["Dee", "Ed", "Flo"], [20, 80, 60])
    assert len(charts._cache()) == 1  # same shape: one figure drawn, reused
    per_point = _bars(first)[0][1] / 100  # pixels per score point, from the 100 bar
    lengths = [length for _, length, _ in _bars(second)]
    assert lengths == [pytest.approx(s * per_point, abs=2) for s in (20, 80, 60)]
    assert len({x for x, _, _ in _bars(second)}) == 1  # every bar starts at 0


def test_a_reused_leaderboard_is_the_same_image_as_a_fresh_one():
    charts.leaderboard(["Ann", "Bo", "Cy"], [100, 50, 25], highlight=0)
    reused = charts.leaderboard(["Dee", "Ed", "Flo"], [20, 80, 60])
    charts._cache().clear()
    fresh = charts.leaderboard(["Dee", "Ed", "Flo"], [20, 80, 60])
    assert reused == fresh
    assert {c for _, _, c in _bars(reused)} == {BLUE}  # the last chart's highlight is gone


def test_leaderboard_names_are_drawn_and_replaced():
    a = charts.leaderboard(["Ann", "Bo"], [70, 70])
    b = charts.leaderboard(["Zed", "Yu"], [70, 70])
    assert a != b  # only the names differ
    assert charts.leaderboard(["Ann", "Bo"], [70, 70]) == a


def test_leaderboard_highlight_none_scores_and_wide_scores():
    png = charts.leaderboard(["Ann", "Bo", "Cy"], [None, 140, 70], highlight=1)
    bars = _bars(png)
    assert [c for _, _, c in bars] == [RED, BLUE]  # None draws no bar
    assert bars[0][1] == pytest.approx(2 * bars[1][1], abs=3)
    assert ("leaderboard", 3, 4, (0, 150), "score") in charts._cache()  # 0-150, the scores' range
    charts.leaderboard(["Ann"], [180])
    assert (
        "leaderboard",
        1,
        4,
        (0, 200),
        "score",
    ) in charts._cache()  # widened to hold a score above


def test_funnel_bars_are_centred_and_as_wide_as_their_entries():
    stages = ["lead", "qualified", "won"]
    charts.funnel(stages, [10, 10, 10])
    png = charts.funnel(stages, [1000, 500, None])
    bars = _bars(png)
    assert len(bars) == 2  # no entries, no bar
    (x0, l0, _), (x1, l1, _) = bars
    assert l0 == pytest.approx(2 * l1, abs=3)
    assert x0 + l0 / 2 == pytest.approx(x1 + l1 / 2, abs=2)
    scaled = charts.funnel(stages, [10, 5, None])
    assert _bars(scaled) == bars and scaled != png  # same shape, other counts written on it
    charts._cache().clear()
    assert charts.funnel(stages, [1000, 500, None]) == png


def test_empty_charts_are_still_images():
    for png in (charts.leaderboard([], []), charts.funnel([], [])):
        assert Image.open(io.BytesIO(png)).format == "PNG"
    assert charts._cache() == {}


def test_the_cache_of_drawn_charts_is_bounded(monkeypatch):
    monkeypatch.setattr(charts, "CACHE_SIZE", 3)
    for n in range(1, 7):
        charts.leaderboard([f"r{i}" for i in range(n)], [50] * n)
    assert [k[1] for k in charts._cache()] == [4, 5, 6]  # the least recently used went first


def test_threads_drawing_at_once_each_get_their_own_charts():
    teams = [
        ([f"rep {t}-{i}" for i in range(8)], [10 * t + 5 * i for i in range(8)]) for t in range(4)
    ]
    expected = [charts.leaderboard(*team) for team in teams]

    def draw(t):
        return [charts.leaderboard(*teams[t]) for _ in range(20)]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(draw, range(4)))
    for t, pngs in enumerate(results):
        assert all(png == expected[t] for png in pngs), f"team {t} got another team's chart"


def _dark_pixels_right_of_centre(png: bytes) -> int:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    px = img.load()
    return sum(
        1
        for x in range(w // 2, w)
        for y in range(h)
        if max(px[x, y]) < 200 and max(px[x, y]) - min(px[x, y]) < 12  # grey ink, not blue
    )


def test_a_funnel_stage_too_narrow_for_its_count_writes_it_beside_the_bar():
    stages = ["lead", "won"]
    wide = charts.funnel(stages, [1000, 800])
    assert _dark_pixels_right_of_centre(wide) == 0  # both counts white, on their bars
    narrow = charts.funnel(stages, [1000, 3])
    assert _dark_pixels_right_of_centre(narrow) > 10  # the 3 drawn dark, beside its bar
    assert charts.funnel(stages, [1000, 800]) == wide  # and back on the bar next time


def test_the_trend_chart_shows_each_reps_months_not_the_last_reps():
    months = ["26-05", "26-06", "26-07"]
    chart = charts.TrendChart(months)
    first = chart.render([1.5, 0.2, None])
    second = chart.render([0.4, 1.0, 0.8])
    assert second != first
    assert charts.TrendChart(months).render([0.4, 1.0, 0.8]) == second
    tall = [height for _, height, _ in _bars(second, (BLUE,), vertical=True)]  # 0.4 : 1 : 0.8
    assert tall == [pytest.approx(tall[1] * r, abs=2) for r in (0.4, 1.0, 0.8)]


def _red_columns(png: bytes) -> list[tuple[int, int]]:
    """(first x, last x) of each run of image columns holding a pixel of the line's red (or
    of its anti-aliased edge: red well above green and blue)."""
    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    px = img.load()

    def reddish(p):
        return p[0] - max(p[1], p[2]) > 40

    cols = [x for x in range(w) if any(reddish(px[x, y]) for y in range(h))]
    runs: list[tuple[int, int]] = []
    for x in cols:
        if runs and x == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], x)
        else:
            runs.append((x, x))
    return runs


def test_a_month_without_attainment_is_a_gap_not_a_zero():
    """No target (attainment None) is not 0 % of it: the line stops at that month instead of
    dropping to the axis, so the two read differently. Before, both were drawn as 0."""
    chart = charts.TrendChart(["26-05", "26-06", "26-07"])
    assert len(_red_columns(chart.render([1.0, 0.0, 0.5]))) == 1  # one line through 0 %
    # the middle month has no point and no segment: two markers, apart
    assert len(_red_columns(chart.render([1.0, None, 0.5]))) == 2


def test_pacing_bars_carry_the_names_they_are_given():
    """The pacing chart's bars are labelled in the reader's words (the report passes them);
    a name the installed fonts cannot draw falls back to the English code."""
    values = (100.0, 80.0, 60.0, 90.0)
    english = charts.pacing(*values)
    assert (
        charts.pacing(*values, names=["Target", "Expected to date", "Actual", "Projected finish"])
        != english
    )
    if not charts.cjk_font():
        assert charts.pacing(*values, names=["目标", "应达进度", "实际", "预计完成"]) == english


def test_the_leaderboards_score_axis_is_titled_in_the_readers_words():
    """Teams of one size share a drawn figure only when their axis title is the same word."""
    english = charts.leaderboard(["Ann", "Bo"], [70, 50], axis="Score")
    chinese = charts.leaderboard(["Ann", "Bo"], [70, 50], axis="得分")
    assert len(charts._cache()) == 2
    assert english != chinese  # 得分, or "score" where no font can draw it
    assert charts.leaderboard(["Ann", "Bo"], [70, 50], axis="Score") == english


def test_a_month_above_the_trend_axis_says_its_value():
    """The trend axis ends at 150 %, and 17 % of the medium bench's rep-months are above it
    (up to 7,578 %): 160 % and 900 % were the same full bar, read as 150 %. A capped bar
    carries its value; bars under the axis' end are drawn as before."""
    chart = charts.TrendChart(["26-05", "26-06", "26-07"])
    assert chart.render([0.5, 1.6, 1.0]) != chart.render([0.5, 9.0, 1.0])
    assert chart.render([0.5, 1.2, 1.0]) == charts.TrendChart(["26-05", "26-06", "26-07"]).render(
        [0.5, 1.2, 1.0]
    )
    # written on the capped bar: the two images differ only around the middle month
    capped = Image.open(io.BytesIO(chart.render([0.5, 9.0, 1.0]))).convert("RGB")
    plain = Image.open(io.BytesIO(chart.render([0.5, 1.5, 1.0]))).convert("RGB")
    left, _top, right, _bottom = ImageChops.difference(capped, plain).getbbox()
    assert capped.width * 0.4 < (left + right) / 2 < capped.width * 0.65


def test_pacing_amounts_read_as_amounts_not_in_scientific_notation(monkeypatch):
    """A medium rep's month target is around a million: the axis read "0.0 0.2 … 1.2" with
    "1e6" in the corner. Amounts are written out with thousands separators."""
    monkeypatch.setattr(charts, "_png", lambda fig: fig)  # the figure instead of its PNG
    fig = charts.pacing(1_250_000, 800_000, 650_000, 1_100_000)
    fig.canvas.draw()
    (ax,) = fig.axes
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ax.xaxis.get_offset_text().get_text() == ""
    assert "1,000,000" in ticks or "1,200,000" in ticks, ticks
    assert all(float(t.replace(",", "")) % 1 == 0 for t in ticks)
    empty = charts.pacing(0, 0, 0, None)  # a new rep's first day: no "-0" ticks
    empty.canvas.draw()
    assert [t.get_text() for t in empty.axes[0].get_xticklabels()][0] == "0"
    assert not any(t.get_text().startswith("-") for t in empty.axes[0].get_xticklabels())
