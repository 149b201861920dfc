"""The statement's tables: header block, one table per section (paged), totals, budget and signatures."""
from __future__ import annotations


from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Table, TableStyle

from reports.cjk_text import chinese_date, format_amount, net_direction, net_in_words, signed_position, wrap
from reports.pdf_layout import (BODY_FONT_SIZE, CELL_PAD_X, CONTENT_WIDTH, GRID, HEADER_FILL, SUBTOTAL_FILL, TABLE_FONT_SIZE,
                                Points, SealBox, table)
from reports.statement_model import Statement, aging

SEAL_HEIGHT = 26 * mm - 5  # the issuer's seal cell inside its padding: the signature's visible appearance


def header_table(statement: Statement, font: str, drawn: list[str]) -> Table:
    label_width = 28 * mm
    value_width = CONTENT_WIDTH / 2 - label_width
    if statement.institution is not None:
        party, party_code = statement.institution.name, statement.institution.code
        party_label = "合作机构"
    else:
        party, party_code = "全部合作机构（项目汇总）", "—"
        party_label = "对账范围"
    period = f"{statement.period_label}\n{chinese_date(statement.period_start)}至{chinese_date(statement.period_end)}"
    pairs = [
        ("对账单编号", statement.number, "版本", f"第 {statement.version} 版"),
        (party_label, party, "统一社会信用代码", party_code),
        (
            "项目",
            f"{statement.program.name}（{statement.program.code}）",
            "出具日期",
            chinese_date(statement.issue_date),
        ),
        ("结算期间", period, "期初余额（元）", signed_position(statement.opening_fen)),
    ]
    if statement.interim:
        pairs.append(("对账单性质", "期中对账单（非最终）", "期末余额（元）", signed_position(statement.totals.net_fen)))
    else:
        pairs.append(("对账单性质", "期末正式对账单", "期末余额（元）", signed_position(statement.totals.net_fen)))
    if statement.supersedes:
        pairs.append(("替代说明", statement.supersedes, "", ""))
    widths = [label_width, value_width, label_width, value_width]
    rows = [
        [wrap(text, font, BODY_FONT_SIZE - 0.5, width - 2 * CELL_PAD_X) for text, width in zip(row, widths, strict=True)]
        for row in pairs
    ]
    if statement.supersedes:  # the note spans the row, wrapped to its width
        rows[-1] = [rows[-1][0], wrap(statement.supersedes, font, BODY_FONT_SIZE - 0.5, CONTENT_WIDTH - label_width
                                      - 2 * CELL_PAD_X), "", ""]
    header = table(rows, drawn, colWidths=widths)
    span = [("SPAN", (1, -1), (3, -1))] if statement.supersedes else []
    header.setStyle(
        TableStyle(
            span + [
                ("FONT", (0, 0), (-1, -1), font, BODY_FONT_SIZE - 0.5, BODY_FONT_SIZE + 2.5),
                ("BOX", (0, 0), (-1, -1), 0.8, GRID),
                ("INNERGRID", (0, 0), (-1, -1), 0.3, GRID),
                ("BACKGROUND", (0, 0), (0, -1), HEADER_FILL),
                ("BACKGROUND", (2, 0), (2, -1), HEADER_FILL),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X),
                ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_X),
            ]
        )
    )
    return header


def fit_width(texts: list[str], font: str, floor: Points, ceiling: Points) -> Points:
    """Column width that fits the widest text (with padding) within [floor, ceiling]."""
    # Figures share one advance width in this font, so the longest string is the widest one.
    longest = max(texts, key=len, default="")
    return min(max(stringWidth(longest, font, TABLE_FONT_SIZE) + 2 * CELL_PAD_X + 1, floor), ceiling)


def totals_table(statement: Statement, font: str, drawn: list[str]) -> Table:
    t = statement.totals
    rows = [
        ["项目", "金额（元）", "说明"],
        ["期初余额", signed_position(statement.opening_fen), "正数为财政局应付机构，负数为机构应退回"],
        ["本期已拨付代偿（补偿）款", format_amount(t.claims_paid_fen), "加项"],
        ["本期贴息、贴保等补贴", format_amount(t.subsidies_fen), "加项"],
        ["本期机构奖励", format_amount(t.rewards_fen), "加项"],
        ["本期退回追偿款", format_amount(t.recoveries_returned_fen), "减项"],
        ["本期净额", signed_position(t.period_net_fen), "本期加项合计减本期减项"],
        ["期末余额", signed_position(t.net_fen), f"期初余额加本期净额；{net_direction(t.net_fen)}"],
        ["期末余额人民币（大写）", net_in_words(t.net_fen), ""],
    ]
    widths = [52 * mm, 40 * mm, CONTENT_WIDTH - 92 * mm]
    return table(
        rows,
        drawn,
        colWidths=widths,
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, BODY_FONT_SIZE - 0.5, BODY_FONT_SIZE + 3),
                ("BOX", (0, 0), (-1, -1), 0.8, GRID),
                ("INNERGRID", (0, 0), (-1, -1), 0.3, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("ALIGN", (0, 0), (-1, 0), "CENTER"),
                ("ALIGN", (1, 1), (1, -2), "RIGHT"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("BACKGROUND", (0, -2), (-1, -1), SUBTOTAL_FILL),
                ("FONT", (0, -2), (-1, -1), font, BODY_FONT_SIZE + 0.5, BODY_FONT_SIZE + 3),
                ("SPAN", (1, -1), (2, -1)),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
                ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
            ]
        ),
    )


def budget_table(statement: Statement, font: str, drawn: list[str]) -> Table:
    budget = statement.budget
    used = budget.used_percent
    rows = [
        [f"{budget.fiscal_year}年度项目预算（元）", "年初至今已使用（元）", "尚余（元）", "使用率"],
        [
            format_amount(budget.annual_fen),
            format_amount(budget.used_ytd_fen),
            format_amount(budget.annual_fen - budget.used_ytd_fen),
            "—" if used is None else f"{used}%",
        ],
    ]
    return table(rows, drawn, colWidths=[CONTENT_WIDTH / 4] * 4, style=_grid_style(font, header_rows=1))


class SealAnchor(Flowable):
    """The issuer's seal cell: prints （盖章） and notes where on which page it landed, for the signature field."""

    def __init__(self, font: str, boxes: list[SealBox]):
        super().__init__()
        self._font = font
        self._boxes = boxes

    def wrap(self, available_width: Points, available_height: Points) -> tuple[Points, Points]:
        self.width, self.height = available_width, SEAL_HEIGHT
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        canv.setFont(self._font, BODY_FONT_SIZE)
        canv.setFillColor(colors.HexColor("#777777"))
        canv.drawString(0, self.height - BODY_FONT_SIZE, "（盖章）")
        x1, y1 = canv.absolutePosition(0, 0)
        x2, y2 = canv.absolutePosition(self.width, self.height - BODY_FONT_SIZE - 2)
        self._boxes.append(SealBox(canv.getPageNumber() - 1, x1, y1, x2, y2))


def signature_table(statement: Statement, font: str, drawn: list[str], seal_boxes: list[SealBox]) -> Table:
    """The parties' blocks; the issuer's seal cell records its position into seal_boxes when drawn."""
    parties = statement.signatures
    seal = SealAnchor(font, seal_boxes)
    drawn.append("（盖章）")
    # A lone signer (a summary) gets a half-width block on the right, where Chinese documents sign.
    width = CONTENT_WIDTH / max(len(parties), 2)
    inner = width - 2 * (CELL_PAD_X + 2)
    rows = [
        [wrap(f"{party.role}：{party.name}", font, BODY_FONT_SIZE, inner) for party in parties],
        [seal if index == 0 else "（盖章）" for index in range(len(parties))],  # the issuer signs first
        ["经办人签字："] * len(parties),
        ["日期：        年      月      日"] * len(parties),
    ]
    return table(
        rows,
        drawn,
        colWidths=[width] * len(parties),
        hAlign="RIGHT",
        rowHeights=[None, SEAL_HEIGHT + 5, 10 * mm, 9 * mm],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, BODY_FONT_SIZE, BODY_FONT_SIZE + 3),
                ("GRID", (0, 0), (-1, -1), 0.8, GRID),
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
                ("VALIGN", (0, 1), (-1, 1), "TOP"),
                ("TEXTCOLOR", (0, 1), (-1, 1), colors.HexColor("#777777")),
                ("VALIGN", (0, 2), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 2),
                ("TOPPADDING", (0, 1), (-1, 1), 4),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 1),
            ]
        ),
    )


def receivables_tables(statement: Statement, font: str, drawn: list[str]) -> list[Table]:
    """Outstanding recovery shares at the period's end: totals per aging band, then one row per receivable."""
    bands = aging(statement.receivables)
    total = sum(amount for _, amount in bands)
    first = "机构/追偿编号" if statement.summary else "追偿编号"
    rows = [[label for label, _ in bands] + ["合计（元）"], [format_amount(amount) for _, amount in bands]
            + [format_amount(total)]]
    band_table = table(rows, drawn, colWidths=[CONTENT_WIDTH / 5] * 5, style=_grid_style(font, header_rows=1))
    detail = [[first, "入账日期", "未到账金额（元）", "账龄（天）"]]
    detail += [[r.reference, r.booked_on, format_amount(r.amount_fen), str(r.age_days)] for r in statement.receivables]
    detail_table = table(detail, drawn, colWidths=[CONTENT_WIDTH / 4] * 4, repeatRows=1,
                         style=_grid_style(font, header_rows=1))
    return [band_table, detail_table]


def _grid_style(font: str, *, header_rows: int) -> TableStyle:
    return TableStyle([
        ("FONT", (0, 0), (-1, -1), font, BODY_FONT_SIZE - 0.5, BODY_FONT_SIZE + 3),
        ("BOX", (0, 0), (-1, -1), 0.8, GRID),
        ("INNERGRID", (0, 0), (-1, -1), 0.3, GRID),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEADER_FILL),
        ("ALIGN", (0, 0), (-1, header_rows - 1), "CENTER"),
        ("ALIGN", (0, header_rows), (-1, -1), "RIGHT"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD_X + 1),
    ])
