"""Charts drawn on the server as SVG (pygal), so they print and need no script."""
from __future__ import annotations

import pygal
from pygal.style import Style

_STYLE = Style(font_family="'WenQuanYi Zen Hei', 'Noto Sans CJK SC', sans-serif", background="white",
               plot_background="white", colors=("#2f6fb0", "#3c9a5f", "#c0504d"), label_font_size=12,
               major_label_font_size=12, legend_font_size=13, title_font_size=15, value_font_size=11)


def budget_use(by_month: dict[int, dict[str, int]], *, title: str) -> str:
    """Bars of the amounts reserved (approved) and paid in each month, in 万元, as SVG text."""
    chart = pygal.Bar(style=_STYLE, js=[], width=760, height=300, title=title, legend_at_bottom=True,
                      disable_xml_declaration=False, y_title="万元", print_values=False, show_minor_y_labels=False)
    chart.x_labels = [f"{m}月" for m in range(1, 13)]
    # Only the drawing is in floating point; every figure shown as text on the page is exact fen.
    chart.add("批准预留", [by_month[m]["reserved"] / 1_000_000 for m in range(1, 13)])
    chart.add("已拨付", [by_month[m]["paid"] / 1_000_000 for m in range(1, 13)])
    return chart.render(is_unicode=True)


def simulation_by_month(rows: list[dict], *, title: str) -> str:
    """Bars of the baseline and the draft amounts in each month of a simulation, in 万元, as SVG text."""
    chart = pygal.Bar(style=_STYLE, js=[], width=760, height=300, title=title, legend_at_bottom=True,
                      disable_xml_declaration=False, y_title="万元", print_values=False, show_minor_y_labels=False)
    chart.x_labels = [row["month"] for row in rows]
    # Drawn in floating point only; the tables beside the chart show the exact yuan.
    chart.add("现行规则", [float(row["baseline"]) / 10_000 for row in rows])
    chart.add("草案", [float(row["draft"]) / 10_000 for row in rows])
    return chart.render(is_unicode=True)
