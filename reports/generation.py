"""Idempotent, crash-safe generation of statement rows and their PDF files.

Per (scope, program, period): unchanged content (same digest as the current done row) does nothing;
changed content becomes version n+1, which supersedes n in the same transaction that marks it done.
A row is inserted as "generating" and committed before rendering, so a crash leaves at most a
"generating" row (never a done one); the next run deletes such rows and redoes their work. The caller
must hold the job lock (reports.locks), which is what makes a leftover "generating" row stale.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import sessionmaker
from sqlmodel import select

from claims.audit import chain_head
from claims.db import lock_rows, unit_of_work
from claims.models import Statement as StatementRow
from claims.models.base import utcnow
from claims.services import events
from claims.storage import Store, put_bytes, statement_key
from reports.cjk_text import format_amount
from reports.locks import lock_key
from reports.pdf import RenderInfo, render_statement_bytes
from reports.statement_model import Statement
from reports.statements import Assembled

log = logging.getLogger(__name__)
Renderer = Callable[..., tuple[bytes, object]]
Sealer = Callable[[Statement, bytes, RenderInfo], bytes]  # the rendered PDF in, the signed PDF out


@dataclass
class GenerationCounts:
    """What a generation run did."""

    created: int = 0
    unchanged: int = 0
    superseded: int = 0
    stale_replaced: int = 0
    numbers: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """The counts recorded on the job run."""
        return {"created": self.created, "unchanged": self.unchanged, "superseded": self.superseded,
                "stale_replaced": self.stale_replaced}


_CHANGES = (("opening_fen", "期初余额"), ("claims_paid_fen", "本期已拨付代偿"), ("subsidies_fen", "本期补贴"),
            ("rewards_fen", "本期机构奖励"), ("recoveries_returned_fen", "本期退回追偿款"), ("net_fen", "期末余额"))


def supersession(current: StatementRow, assembled: Assembled, version: int) -> str:
    """What a new version prints about the one it replaces: its number, and why (which totals changed)."""
    old, new = current.totals or {}, assembled.totals
    why = []
    if current.interim and not assembled.statement.interim:
        why.append("本期已结束，以正式对账单替代期中对账单")
    why += [f"{label}由{format_amount(old.get(key, 0))}元变更为{format_amount(new[key])}元"
            for key, label in _CHANGES if old.get(key, 0) != new[key]]
    if old.get("lines", 0) != new["lines"]:
        why.append(f"明细由{old.get('lines', 0)}笔变更为{new['lines']}笔")
    if not why:
        why.append("明细内容更正，金额未变")
    return f"本版（第{version}版）替代第{current.version}版（{current.number}）。变更原因：{'；'.join(why)}。"


def generate(sessions: sessionmaker, assembled: Assembled, *, issue_date: date, store: Store,
             counts: GenerationCounts, seal: Sealer, render: Renderer | None = None) -> StatementRow | None:
    """Bring one statement up to date with its assembled content; returns the new done row, or None if unchanged.

    The PDF is signed (seal) before it is written: the file and its recorded SHA-256 are the signed ones.
    """
    with unit_of_work(sessions) as session:
        lock_rows(session, lock_key(f"{assembled.scope}|{assembled.program_code}|{assembled.period.start}"))
        rows = list(session.exec(select(StatementRow).where(
            StatementRow.scope == assembled.scope, StatementRow.program_code == assembled.program_code,
            StatementRow.period_start == assembled.period.start)))
        current = next((r for r in rows if r.status == "done"), None)
        if current is not None and current.content_digest == assembled.digest:
            counts.unchanged += 1
            return None
        for stale in (r for r in rows if r.status == "generating"):
            log.warning("replacing statement %s left generating by an interrupted run", stale.number)
            session.delete(stale)
            counts.stale_replaced += 1
        session.flush()
        version = max((r.version for r in rows if r.status != "generating"), default=0) + 1
        supersedes = supersession(current, assembled, version) if current is not None else ""
        statement = assembled.numbered(version=version, issue_date=issue_date, audit_head=chain_head(session).hash,
                                       supersedes=supersedes)
        row = StatementRow(scope=assembled.scope, institution_id=assembled.institution_id,
                           program_code=assembled.program_code, period_start=assembled.period.start,
                           period_end=assembled.period.end, period_label=assembled.period.label, version=version,
                           number=statement.number, status="generating", content_digest=assembled.digest,
                           totals=assembled.totals, issue_date=issue_date, interim=statement.interim,
                           supersedes=supersedes)
        session.add(row)
    data, info = (render or render_statement_bytes)(statement)
    data = seal(statement, data, info)
    sha256 = hashlib.sha256(data).hexdigest()
    file_name = f"{statement.number}.pdf"
    put_bytes(store, statement_key(file_name), data)  # whole or nothing, before the row says done
    with unit_of_work(sessions) as session:
        row = session.get(StatementRow, row.id)
        for older in session.exec(select(StatementRow).where(
                StatementRow.scope == row.scope, StatementRow.program_code == row.program_code,
                StatementRow.period_start == row.period_start, StatementRow.status == "done")):
            older.status = "superseded"
            session.add(older)
            counts.superseded += 1
        row.status, row.sha256, row.path, row.pages, row.done_at = "done", sha256, file_name, info.pages, utcnow()
        session.add(row)
        if row.institution_id is not None:
            # Told in the transaction that marks it done: an interrupted run announces nothing.
            events.emit(session, type="statement.issued", institution_id=row.institution_id, subject_type="statement",
                        subject_id=row.id, dedupe_key=f"statement:{row.number}",
                        data={"statement": row.id, "number": row.number, "program": row.program_code,
                              "period": row.period_label, "period_start": row.period_start.isoformat(),
                              "period_end": row.period_end.isoformat(), "version": row.version, "sha256": row.sha256})
    counts.created += 1
    counts.numbers.append(row.number)
    return row
