"""Plain, immutable data for a settlement statement, as the PDF renderer consumes it.

The assembler (reports/statements.py) reads the ledger and fills these; the renderer only draws them.
All amounts are integer fen. Construction checks that the figures reconcile, so a statement that
does not add up fails where it is built, not on paper.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal


def _require_fen(name: str, value: object) -> None:
    # bool is an int subclass and a float sneaking in would break exactness, so reject both.
    if type(value) is not int:
        raise TypeError(f"{name} must be int fen, got {type(value).__name__}: {value!r}")


@dataclass(frozen=True)
class InstitutionRef:
    """The cooperating institution a statement is addressed to."""

    name: str
    code: str  # unified social credit code (USCC)


@dataclass(frozen=True)
class ProgramRef:
    """The program a statement settles."""

    code: str
    name: str


@dataclass(frozen=True)
class StatementLine:
    """One item: a claim, subsidy, reward or recovery (or, in a summary, one institution)."""

    reference: str  # claim / loan / application number, or the institution code in a summary
    name: str  # enterprise name, or the institution name in a summary
    amounts_fen: tuple[int, ...]  # one per column of the section, in column order
    trace: str = ""  # short human summary of how the amount was reached
    contract_no: str = ""  # the loan contract (贷款合同号); empty in a summary
    paid_on: str = ""  # payment (or booking) date as printed, YYYY-MM-DD
    voucher_no: str = ""  # the treasury's payment voucher (凭证号), when one was recorded

    def __post_init__(self) -> None:
        object.__setattr__(self, "amounts_fen", tuple(self.amounts_fen))
        for index, amount in enumerate(self.amounts_fen):
            _require_fen(f"line {self.reference} amount #{index}", amount)


@dataclass(frozen=True)
class StatementSection:
    """A titled table of lines whose subtotal column must add up to subtotal_fen."""

    title: str
    columns: tuple[str, ...]  # headings of the amount columns
    lines: tuple[StatementLine, ...]
    subtotal_fen: int
    subtotal_column: int = -1  # which amount column the subtotal sums (default: the last)
    reference_label: str = "编号"
    name_label: str = "企业名称"
    trace_label: str = "计算说明"
    detail_columns: bool = True  # print each line's contract, date and voucher (not in a summary)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "lines", tuple(self.lines))
        _require_fen(f"section {self.title} subtotal", self.subtotal_fen)
        if not self.columns:
            raise ValueError(f"section {self.title} has no amount columns")
        if not -len(self.columns) <= self.subtotal_column < len(self.columns):
            raise ValueError(f"section {self.title}: subtotal column {self.subtotal_column} out of range")
        for line in self.lines:
            if len(line.amounts_fen) != len(self.columns):
                raise ValueError(
                    f"section {self.title}: line {line.reference} has {len(line.amounts_fen)} amounts "
                    f"for {len(self.columns)} columns"
                )
        summed = sum(line.amounts_fen[self.subtotal_column] for line in self.lines)
        if summed != self.subtotal_fen:
            raise ValueError(f"section {self.title}: lines add up to {summed} fen, subtotal says {self.subtotal_fen}")


@dataclass(frozen=True)
class StatementTotals:
    """Period movements; net = opening + claims paid + subsidies + rewards - recoveries returned."""

    claims_paid_fen: int
    subsidies_fen: int
    rewards_fen: int
    recoveries_returned_fen: int
    net_fen: int  # the closing balance: > 0 the bureau has paid the institution on balance; < 0 it owes back

    def __post_init__(self) -> None:
        for name in ("claims_paid_fen", "subsidies_fen", "rewards_fen", "recoveries_returned_fen", "net_fen"):
            _require_fen(name, getattr(self, name))

    @property
    def period_net_fen(self) -> int:
        """This period's movements alone: paid out (claims, subsidies, rewards) less recoveries owed back."""
        return self.claims_paid_fen + self.subsidies_fen + self.rewards_fen - self.recoveries_returned_fen


@dataclass(frozen=True)
class BudgetUsage:
    """Program budget for the fiscal year and how much of it is used so far."""

    fiscal_year: int
    used_ytd_fen: int
    annual_fen: int

    def __post_init__(self) -> None:
        _require_fen("budget used", self.used_ytd_fen)
        _require_fen("annual budget", self.annual_fen)

    @property
    def used_percent(self) -> Decimal | None:
        """Share of the annual budget used, in percent to two places; None without a budget."""
        if self.annual_fen == 0:
            return None
        ratio = Decimal(self.used_ytd_fen) * 100 / Decimal(self.annual_fen)
        return ratio.quantize(Decimal("0.01"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Receivable:
    """A recovery share owed back to the program and not yet received, with its age at the period end."""

    reference: str
    booked_on: str
    amount_fen: int
    age_days: int

    def __post_init__(self) -> None:
        _require_fen(f"receivable {self.reference}", self.amount_fen)


# Aging bands (days) for receivables: the last band is open-ended.
AGING_BANDS = (("30天以内", 0, 30), ("31至90天", 31, 90), ("91至180天", 91, 180), ("180天以上", 181, None))


def aging(receivables: tuple[Receivable, ...]) -> list[tuple[str, int]]:
    """Outstanding amounts per aging band, every band listed (zero where nothing falls in it)."""
    return [(label, sum(r.amount_fen for r in receivables if r.age_days >= low and (high is None or r.age_days <= high)))
            for label, low, high in AGING_BANDS]


@dataclass(frozen=True)
class SignatureParty:
    """One side that seals and signs the statement."""

    role: str  # e.g. "甲方（拨付方）"
    name: str  # e.g. "深圳市财政局"


@dataclass(frozen=True)
class Statement:
    """A settlement statement for one institution (or, with summary=True, all of them) and one period."""

    number: str  # e.g. "SZ-RP-2026Q3-0001-v1"
    title: str
    institution: InstitutionRef | None  # None only for a program-level summary
    program: ProgramRef
    period_label: str  # e.g. "2026年第3季度"
    period_start: dt.date
    period_end: dt.date
    issue_date: dt.date
    version: int
    opening_fen: int  # > 0: owed to the institution at period start; < 0: owed by it
    sections: tuple[StatementSection, ...]
    totals: StatementTotals
    budget: BudgetUsage
    signatures: tuple[SignatureParty, ...]
    summary: bool = False
    issuer: str = "市财政局"
    notes: tuple[str, ...] = field(default_factory=tuple)
    audit_head: str = ""  # the audit chain's head hash when the statement was issued (not part of its content)
    interim: bool = False  # issued before the period closed: 期中对账单（非最终）
    supersedes: str = ""  # which version this one replaces and what changed (not part of its content)
    receivables: tuple["Receivable", ...] = ()  # recovery shares owed back and not yet received, aged

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))
        object.__setattr__(self, "signatures", tuple(self.signatures))
        object.__setattr__(self, "notes", tuple(self.notes))
        _require_fen("opening position", self.opening_fen)
        if self.summary == (self.institution is not None):
            raise ValueError("a summary statement has no institution; an institution statement needs one")
        if self.period_end < self.period_start:
            raise ValueError(f"period ends {self.period_end} before it starts {self.period_start}")
        if self.version < 1:
            raise ValueError(f"version must be 1 or more, got {self.version}")
        t = self.totals
        expected = self.opening_fen + t.claims_paid_fen + t.subsidies_fen + t.rewards_fen - t.recoveries_returned_fen
        if t.net_fen != expected:
            raise ValueError(f"net {t.net_fen} fen does not reconcile: opening and movements give {expected}")

    @property
    def line_count(self) -> int:
        """Number of item lines across all sections."""
        return sum(len(section.lines) for section in self.sections)
