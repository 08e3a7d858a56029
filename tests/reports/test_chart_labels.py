"""Chart labels are drawn whole (issue 12 point 4): a long question wraps onto a second line and
ends with "…" rather than losing its first characters off the chart's left edge."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from qloop.reports.charts import Bar, comparison_bars, fit_lines, text_width
from qloop.reports.presentation import chart_label

RECOMMEND = "您向同行或朋友推荐我公司产品的可能性有多大？（0 = 完全不可能，10 = 非常可能）"


def test_the_scale_note_in_brackets_is_left_out_of_the_label() -> None:
    assert chart_label(RECOMMEND) == "您向同行或朋友推荐我公司产品的可能性有多大？"
    assert chart_label("How likely? (0 = not at all, 10 = extremely)") == "How likely?"
    assert chart_label("（说明）") == "（说明）"  # nothing but the note: kept


def test_a_long_label_wraps_between_words_and_keeps_its_start() -> None:
    lines = fit_lines("How likely are you to recommend our products to a colleague?", 178, 11)
    assert lines[0].startswith("How likely")
    assert len(lines) == 2 and not lines[0].endswith(" ")
    assert all(text_width(line, 11) <= 178 for line in lines)


@given(st.text(min_size=1, max_size=80))
def test_no_label_line_is_wider_than_its_column(text: str) -> None:
    for size in (11, 12):
        lines = fit_lines(text, 178, size)
        assert len(lines) <= 2
        assert all(text_width(line, size) <= 178 for line in lines)


def test_the_chart_draws_the_whole_start_of_a_long_label() -> None:
    svg = comparison_bars(
        [Bar(chart_label(RECOMMEND), 25.0)],
        lo=-100,
        hi=100,
        current_label="本次调查",
        previous_label="",
    )
    drawn = "".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg))
    assert drawn.startswith("您向同行或朋友推荐")
