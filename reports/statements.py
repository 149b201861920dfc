"""Assemble settlement statements (plain data) per institution, program and period, and the bureau's summary.

The content reconciles to the ledger: every line is a posting of the period, every subtotal the sum of
its lines, the opening position the same postings before the period. The content digest is the
SHA-256 of the canonical JSON of everything printed except the number, version and issue date, so
re-assembling unchanged data gives the same digest and a generator can tell "nothing changed".
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlmodel import Session

from reports.periods import Period
from reports.receivables import outstanding_receivables, program_receivables
from reports.statement_facts import (InstitutionInfo, Movement, all_institutions, budget_used, iter_movements,
                                     opening_positions)
from reports.statement_model import (BudgetUsage, InstitutionRef, ProgramRef, SignatureParty, Statement,
                                     StatementLine, StatementSection, StatementTotals)

PROGRAM_SCOPE = "program"
SECTIONS = (  # kind, title, amount columns
    # The loss base is in each line's calculation note: the table keeps room for contract, date and voucher.
    ("claim", "本期已核准并拨付的代偿补偿", ("核定金额（元）", "实付金额（元）")),
    ("subsidy", "本期贴息、贴保补贴", ("补贴金额（元）",)),
    ("reward", "本期机构奖励", ("奖励金额（元）",)),
    ("recovery", "本期应退回的追偿款", ("追回金额（元）", "应退回（元）")),
)
SUMMARY_COLUMNS = {"claim": ("实付金额（元）",), "subsidy": ("补贴金额（元）",), "reward": ("奖励金额（元）",),
                   "recovery": ("追回金额（元）", "应退回（元）")}
NOTES = (
    "期初余额为本项目开办以来截至本期期初，财政局与贵机构之间的累计结算净额（已拨付代偿、补贴、奖励合计减应退回追偿款合计）；"
    "本期净额为本期已拨付代偿、补贴、奖励合计减本期应退回追偿款；期末余额 = 期初余额 + 本期净额。",
    "年初至今已使用预算 = 已拨付 + 已核准待拨付；各项金额取自资金台账记账分录，与台账逐分核对一致；"
    "全部金额以人民币元为单位，保留两位小数并按千分位分隔。",
)
INTERIM_NOTE = ("本期尚未结束：本对账单为期中对账单（非最终），仅列截至出具日已入账的事项；"
                "期末后将出具正式对账单，替代本版。")
INTERIM_MARK = "期中对账单（非最终）"


@dataclass(frozen=True)
class StatementConfig:
    """Who issues statements and in which time zone periods are counted."""

    timezone: str = "Asia/Shanghai"
    issuer: str = "市财政局"
    issuers: Mapping[str, str] = field(default_factory=dict)  # program-code prefix -> issuing bureau

    def issuer_for(self, program_code: str) -> str:
        """The bureau that issues the program's statements (longest matching prefix, else the default)."""
        matches = [p for p in self.issuers if program_code.startswith(p)]
        return self.issuers[max(matches, key=len)] if matches else self.issuer


@dataclass(frozen=True)
class Assembled:
    """One statement's content before it gets a number, a version and an issue date."""

    scope: str  # "institution:<id>" or "program"
    institution_id: int | None
    party_code: str  # institution code, or ALL for the summary
    program_code: str
    period: Period
    statement: Statement
    digest: str
    totals: dict[str, int]

    def numbered(self, *, version: int, issue_date: date, audit_head: str = "", supersedes: str = "") -> Statement:
        """The statement as issued: number, version, issue date, the audit chain's head then, what it replaces."""
        number = statement_number(self.program_code, self.period, self.party_code, version)
        return dataclasses.replace(self.statement, number=number, version=version, issue_date=issue_date,
                                   audit_head=audit_head, supersedes=supersedes)


def institution_scope(institution_id: int) -> str:
    """The scope key of an institution's statements."""
    return f"institution:{institution_id}"


def statement_number(program_code: str, period: Period, party_code: str, version: int) -> str:
    """The printed statement number, e.g. SZ-SME-POOL-2026Q3-BANK_A-v2."""
    return f"{program_code.upper()}-{period.code}-{party_code}-v{version}"


_LINE_FIELDS = tuple(f.name for f in dataclasses.fields(StatementLine))


def _plain(value):
    # What dataclasses.asdict gives, as JSON will print it, without asdict's deep copy of every value:
    # on a quarter's 50 000 lines that copy was most of the digest's time.
    if isinstance(value, StatementLine):  # texts and a tuple of ints: nothing inside needs converting
        return {name: getattr(value, name) for name in _LINE_FIELDS}
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def content_digest(statement: Statement) -> str:
    """SHA-256 of the canonical JSON of the statement without its number, version, issue date, audit head and
    what it supersedes (an interim statement differs from the final one by its interim flag and notes)."""
    content = _plain(statement)
    for volatile in ("number", "version", "issue_date", "audit_head", "supersedes"):
        content.pop(volatile)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def rule_for_period(registry, program_code: str, period: Period):
    """The program version that governs a period: the one in force at its end, else the latest overlapping it."""
    versions = registry.versions(program_code)
    for rule in reversed(versions):
        if rule.in_force_on(period.end):
            return rule
    overlapping = [r for r in versions if r.effective_from <= period.end and
                   (r.effective_to is None or r.effective_to >= period.start)]
    return (overlapping or versions)[-1]


def _section(kind: str, title: str, columns: tuple[str, ...], lines: list[StatementLine], *,
             summary: bool) -> StatementSection:
    labels = {"reference_label": "机构代码", "name_label": "合作机构", "trace_label": "说明",
              "detail_columns": False} if summary else {}
    return StatementSection(title, columns, tuple(lines), sum(line.amounts_fen[-1] for line in lines), **labels)


def _totals(opening: int, sections: Mapping[str, StatementSection]) -> StatementTotals:
    claims, subsidies = sections["claim"].subtotal_fen, sections["subsidy"].subtotal_fen
    rewards, recoveries = sections["reward"].subtotal_fen, sections["recovery"].subtotal_fen
    return StatementTotals(claims, subsidies, rewards, recoveries, opening + claims + subsidies + rewards - recoveries)


def _totals_dict(statement: Statement) -> dict[str, int]:
    t = statement.totals
    return {"opening_fen": statement.opening_fen, "claims_paid_fen": t.claims_paid_fen,
            "subsidies_fen": t.subsidies_fen, "rewards_fen": t.rewards_fen,
            "recoveries_returned_fen": t.recoveries_returned_fen, "period_net_fen": t.period_net_fen,
            "net_fen": t.net_fen, "lines": statement.line_count, "budget_used_ytd_fen": statement.budget.used_ytd_fen,
            "budget_annual_fen": statement.budget.annual_fen}


@dataclass(frozen=True)
class PartyTotals:
    """What the bureau's summary keeps of one institution's statement: its code, name, opening and sums per section."""

    code: str
    name: str
    opening_fen: int
    sections: tuple[tuple[int, tuple[int, ...]], ...]  # per SECTIONS kind: (line count, summary column sums)


def _party_totals(assembled: Assembled) -> PartyTotals:
    sections = []
    for (kind, _, _), section in zip(SECTIONS, assembled.statement.sections, strict=True):
        width = len(SUMMARY_COLUMNS[kind])
        sums = tuple(sum(line.amounts_fen[c - width] for line in section.lines) for c in range(width))
        sections.append((len(section.lines), sums))
    return PartyTotals(assembled.party_code, assembled.statement.institution.name, assembled.statement.opening_fen,
                       tuple(sections))


def _grouped(movements: Iterator[Movement]) -> Iterator[tuple[int, list[Movement]]]:
    # The scan is ordered by institution, so a change of institution ends one's items.
    return ((party, list(group)) for party, group in groupby(movements, key=lambda m: m.institution_id))


def iter_period(session: Session, *, registry, program_code: str, period: Period, issue_date: date,
                config: StatementConfig, include_idle: tuple[int, ...] = (),
                institution_id: int | None = None) -> Iterator[Assembled]:
    """Every statement of a program for a period, one institution at a time, then the summary.

    An institution has a position when the ledger holds any of its items in the program up to the end of
    the period; include_idle adds institutions that get a nil statement anyway. The items come from one
    ordered scan and each institution's statement is handed out before the next one's items are read, so
    memory holds one institution's lines, not the program's. With institution_id only that institution's
    statement is assembled (and no summary).
    """
    rule = rule_for_period(registry, program_code, period)
    start, end = period.utc_bounds(config.timezone)
    openings = opening_positions(session, program_code=program_code, before=start)
    used, appropriated = budget_used(session, program_code=program_code, year=period.end.year, before=end)
    budget = BudgetUsage(period.end.year, used, appropriated or rule.annual_budget_fen(period.end.year) or 0)
    program = ProgramRef(code=rule.code, name=rule.name)
    issuer = config.issuer_for(program_code)
    interim = issue_date <= period.end  # issued before the period closed
    common = dict(title=f"{rule.name}{INTERIM_MARK if interim else '结算对账单'}", program=program,
                  period_label=period.label, period_start=period.start, period_end=period.end, issue_date=issue_date,
                  version=1, number="", budget=budget, issuer=issuer,
                  notes=(INTERIM_NOTE, *NOTES) if interim else NOTES, interim=interim)
    zone = ZoneInfo(config.timezone)
    owed = outstanding_receivables(session, program_code=program_code, end=end, as_of=min(issue_date, period.end),
                                   timezone=config.timezone, institution_id=institution_id)
    known = set(openings) | set(include_idle)
    if institution_id is not None:
        known &= {institution_id}
    parties = all_institutions(session)
    waiting = sorted(i for i in known if i in parties)  # institutions that get a statement even without items
    summary: list[PartyTotals] = []

    def statement_of(party: InstitutionInfo, items: list[Movement]) -> Assembled:
        assembled = _institution_statement(party, items, openings.get(party.id, 0),
                                           {**common, "receivables": owed.get(party.id, ())}, issuer, program_code,
                                           period, zone)
        summary.append(_party_totals(assembled))
        return assembled

    movements = iter_movements(session, program_code=program_code, program_kind=rule.kind, start=start, end=end,
                               institution_id=institution_id)
    for party_id, items in _grouped(movements):
        while waiting and waiting[0] < party_id:
            yield statement_of(parties[waiting.pop(0)], [])
        if waiting and waiting[0] == party_id:
            waiting.pop(0)
        yield statement_of(parties[party_id], items)
    for party_id in waiting:
        yield statement_of(parties[party_id], [])
    if summary and institution_id is None:
        yield _summary(summary, program_code, period, {**common, "receivables": program_receivables(session, owed)},
                       issuer)


def _line(movement: Movement, zone: ZoneInfo) -> StatementLine:
    booked = movement.at.replace(tzinfo=UTC).astimezone(zone).date().isoformat()
    return StatementLine(movement.reference, movement.name, movement.amounts_fen, movement.trace,
                         contract_no=movement.contract_no, paid_on=booked, voucher_no=movement.voucher_no)


def _institution_statement(party: InstitutionInfo, items: list[Movement], opening: int, common: dict, issuer: str,
                           program_code: str, period: Period, zone: ZoneInfo) -> Assembled:
    sections = {kind: _section(kind, title, columns, [_line(m, zone) for m in items if m.kind == kind],
                               summary=False)
                for kind, title, columns in SECTIONS}
    statement = Statement(institution=InstitutionRef(party.name, party.uscc), opening_fen=opening,
                          sections=tuple(sections.values()), totals=_totals(opening, sections),
                          signatures=(SignatureParty("甲方（拨付方）", issuer),
                                      SignatureParty("乙方（合作机构）", party.name)), **common)
    return Assembled(institution_scope(party.id), party.id, party.code, program_code, period, statement,
                     content_digest(statement), _totals_dict(statement))


def assemble_period(session: Session, **kwargs) -> list[Assembled]:
    """iter_period's statements as a list (for small programs and tests; the job streams instead)."""
    return list(iter_period(session, **kwargs))


def _summary(parties: list[PartyTotals], program_code: str, period: Period, common: dict, issuer: str) -> Assembled:
    parties = sorted(parties, key=lambda p: p.code)
    sections = {}
    for index, (kind, title, _) in enumerate(SECTIONS):
        lines = [StatementLine(p.code, p.name, p.sections[index][1], f"{p.sections[index][0]}笔")
                 for p in parties if p.sections[index][0]]
        sections[kind] = _section(kind, title.replace("本期", "本期各机构"), SUMMARY_COLUMNS[kind], lines, summary=True)
    opening = sum(p.opening_fen for p in parties)
    statement = Statement(institution=None, summary=True, opening_fen=opening, sections=tuple(sections.values()),
                          totals=_totals(opening, sections), signatures=(SignatureParty("编制单位", issuer),),
                          **{**common, "title": common["title"].replace("结算对账单", "结算汇总表")
                             .replace(INTERIM_MARK, "期中汇总表（非最终）")})
    return Assembled(PROGRAM_SCOPE, None, "ALL", program_code, period, statement, content_digest(statement),
                     _totals_dict(statement))
