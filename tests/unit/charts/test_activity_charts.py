"""The activity charts draw what their tables hold, suppressed counts as '*', and say it in words."""

from __future__ import annotations

import pandas as pd
import pytest

from rfd_lib.charts.activity import interval_chart, volume_chart, waterfall_chart

QUARTERS = ["2025/26 Q1", "2025/26 Q2", "2025/26 Q3"]


def volumes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "provider_code": ["RXA"] * 3,
            "quarter": QUARTERS,
            "rfd_coded": pd.array([50, 10, 70], dtype="Int64"),
            "counted": pd.array([40, None, 55], dtype="Int64"),  # 2025/26 Q2 suppressed
        }
    )


def test_volume_chart_draws_counted_in_front_of_coded_and_marks_the_suppressed():
    chart = volume_chart(volumes(), "RXA", footnote="* hidden: a small count")
    axes = chart.figure.axes[0]
    heights = [bar.get_height() for bar in axes.patches]
    assert heights == [50, 10, 70, 40, 0, 55]  # RFD-coded behind, counted in front, not stacked
    assert all(bar.get_y() == 0 for bar in axes.patches)
    assert [tick.get_text() for tick in axes.get_xticklabels()] == QUARTERS
    assert [text.get_text() for text in axes.texts] == ["*"]
    assert "In 2025/26 Q3: 70 RFD-coded, 55 counted." in chart.caption
    assert chart.caption.endswith("* hidden: a small count.")
    assert chart.alt_text.startswith("RFD spells at RXA by quarter.")
    assert axes.get_ylabel() == "RFD spells (count)"


def test_waterfall_chart_steps_down_from_coded_to_counted():
    table = pd.DataFrame(
        {
            "provider_code": ["RXA"] * 4,
            "quarter": ["2025/26 Q1"] * 4,
            "step": [0, 1, 2, 3],
            "label": ["RFD-coded spells", "emergency admission", "private patient", "counted as 2K_RFD_back"],
            "spells": pd.array([100, 20, 10, 70], dtype="Int64"),
        }
    )
    chart = waterfall_chart(table, "RXA", "2025/26 Q1")
    bars = chart.figure.axes[0].patches
    assert [(bar.get_x(), bar.get_width()) for bar in bars] == [(0, 100), (80, 20), (70, 10), (0, 70)]
    assert "Of 100 RFD-coded spells at RXA in 2025/26 Q1, 70 were counted" in chart.caption
    assert "emergency admission 20; private patient 10" in chart.caption
    assert "*" not in chart.caption  # nothing suppressed, so no footnote


def test_interval_chart_colours_repeats_sooner_than_the_policy():
    table = pd.DataFrame(
        {
            "provider_code": ["RXA"] * 3,
            "band": ["6-12 months", "12-16 months", "16-24 months"],
            "spells": pd.array([10, None, 25], dtype="Int64"),
        }
    )
    chart = interval_chart(table, "RXA", policy_months=16)
    colours = [bar.get_facecolor() for bar in chart.figure.axes[0].patches]
    assert colours[0] == colours[1] != colours[2]
    assert "(10 in all, suppressed bands not included)" in chart.caption
    assert chart.figure.axes[0].get_ylim()[0] == 0


def test_a_chart_with_nothing_shown_keeps_a_count_axis_from_zero():
    table = pd.DataFrame(
        {
            "provider_code": ["RXA"] * 2,
            "band": ["0-6 months", "6-12 months"],
            "spells": pd.array([None, 0], dtype="Int64"),
        }
    )
    assert interval_chart(table, "RXA").figure.axes[0].get_ylim() == (0, 1)


def test_a_provider_without_rows_is_a_clear_error():
    with pytest.raises(ValueError, match="no volumes for provider RXB"):
        volume_chart(volumes(), "RXB")


HOSTILE = {
    "mathtext": "$x^$",
    "latex command": "\\frac",
    "underscore": "_",
    "300 characters": "R" * 300,
    "html": "<script>",
    "control characters": "R\x00X\nY",
}


def drawn_texts(chart) -> list:
    """Return every text artist of the chart's figure (titles, labels, ticks, legend, annotations)."""
    from matplotlib.text import Text

    return [text for text in chart.figure.findobj(Text) if text.get_text()]


@pytest.mark.parametrize("code", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_provider_code_is_drawn_as_it_is_and_cut_when_long(code):
    from rfd_lib.charts.funnel import funnel_chart
    from rfd_lib.charts.house_style import DATA_TEXT_WIDTH, TITLE_WIDTH, data_text
    from rfd_lib.metrics.funnel import funnel

    peers = pd.DataFrame(
        {
            "provider_code": [code, "RXB", "RXC", "RXD"],
            "spells": pd.array([400, 50, 60, 55], dtype="Int64"),
            "population": pd.array([300_000, 320_000, 310_000, 290_000], dtype="Int64"),
        }
    )
    result = funnel(peers)
    assert result.outside[code] == "above"
    waterfall = pd.DataFrame(
        {
            "provider_code": [code] * 3,
            "quarter": ["2025/26 Q1"] * 3,
            "step": [0, 1, 2],
            "label": ["RFD-coded spells", "emergency admission", "counted as 2K_RFD_back"],
            "spells": pd.array([100, 20, 80], dtype="Int64"),
        }
    )
    bands = pd.DataFrame(
        {"provider_code": [code] * 2, "band": ["0-6 months", "6-12 months"], "spells": [10, 0]}
    )
    charts = [
        volume_chart(volumes().assign(provider_code=code), code),
        waterfall_chart(waterfall, code, "2025/26 Q1"),
        interval_chart(bands, code),
        funnel_chart(result, highlight=code),
    ]
    shown = data_text(code)
    assert len(shown) <= DATA_TEXT_WIDTH and "\x00" not in shown and "\n" not in shown
    for chart in charts:
        assert chart.png()[:4] == b"\x89PNG"  # drawn: no mathtext error
        texts = [text.get_text() for text in drawn_texts(chart)]
        assert any(shown in text for text in texts)
        assert not any(code in text for text in texts) or code == shown
        assert all(
            len(line) <= TITLE_WIDTH for line in chart.figure.axes[0].get_title(loc="left").split("\n")
        )
        assert all(not text.get_parse_math() for text in drawn_texts(chart))
    labels = {text.get_gid(): text.get_text() for text in charts[-1].figure.axes[0].texts}
    assert labels[f"label-{code}"] == shown
    legend = [text.get_text() for text in charts[-1].figure.legends[0].get_texts()]
    assert f"This report: {shown}" in legend
