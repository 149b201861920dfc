"""The LPR history in the database: seeded from config/programs/lpr.toml, extended by admins as fixings publish."""
from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import Conflict, Unprocessable
from claims.models import LprRate
from workflows.subsidy import LprFixing, LprTable

# A published LPR has never been near these bounds; anything outside is a typing error (4.35 for 0.0435).
_LOWEST, _HIGHEST = Decimal("0.0001"), Decimal("0.2")


def list_fixings(session: Session) -> list[LprRate]:
    """Every fixing, oldest first."""
    return list(session.exec(select(LprRate).order_by(LprRate.effective_on)))


def lpr_table(session: Session) -> LprTable:
    """The LPR history as the rule engine reads it (refused when the table is empty)."""
    rows = list_fixings(session)
    if not rows:
        raise Unprocessable("The LPR history is empty; load it with `claims seed` or POST /lpr.", code="lpr_missing")
    return LprTable(LprFixing(r.effective_on, Decimal(r.one_year), Decimal(r.five_year)) for r in rows)


def _checked_rate(name: str, value: Decimal) -> Decimal:
    if not value.is_finite() or not _LOWEST <= value <= _HIGHEST:
        raise Unprocessable(f"{name} must be an annual rate as a ratio between {_LOWEST} and {_HIGHEST} "
                            f"(3.45 % is \"0.0345\").", code="lpr_rate_out_of_range", errors={name: ["out of range"]})
    return value


def publish_fixing(session: Session, *, principal: Principal, effective_on: date, one_year: Decimal,
                   five_year: Decimal, source: str = "") -> LprRate:
    """Append a new LPR fixing (admin); the history before the latest fixing is fixed, as computed subsidies read it."""
    principal.require("admin")
    one_year, five_year = _checked_rate("one_year", one_year), _checked_rate("five_year", five_year)
    begin_write(session)
    latest = session.exec(select(LprRate).order_by(LprRate.effective_on.desc()).limit(1)).first()
    if latest is not None and effective_on <= latest.effective_on:
        raise Conflict(f"The LPR history runs to {latest.effective_on.isoformat()}; a new fixing must take effect "
                       f"after it (earlier fixings are not rewritten).", code="lpr_history_fixed",
                       errors={"effective_on": [f"on or before the latest fixing {latest.effective_on.isoformat()}"]})
    row = LprRate(effective_on=effective_on, one_year=str(one_year), five_year=str(five_year), source=source,
                  created_by=principal.actor)
    session.add(row)
    session.flush()
    record_event(session, actor=principal.actor, entity="lpr", entity_id=effective_on.isoformat(), action="published",
                 data={"one_year": str(one_year), "five_year": str(five_year), "source": source})
    session.commit()
    return row


def load_fixings(session: Session, path: Path) -> int:
    """Add the fixings of an lpr.toml file that the table lacks (seeding; idempotent); returns how many were added."""
    if not path.exists():
        return 0
    data = tomllib.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    known = set(session.exec(select(LprRate.effective_on)))
    added = 0
    for fixing in data.get("fixings", []):
        if fixing["effective_on"] in known:
            continue
        session.add(LprRate(effective_on=fixing["effective_on"], one_year=str(Decimal(str(fixing["one_year"]))),
                            five_year=str(Decimal(str(fixing["five_year"]))), source=path.name))
        added += 1
    session.flush()
    return added
