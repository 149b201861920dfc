"""Double-entry postings and the program budget: reserve on approval, post on payment, release on refusal.

Accounts per program and fiscal year: `appropriation` (where the budget comes from), `available`,
`reserved`, `paid`, `recovered`; per institution and program: `receivable` (recoveries owed back).
Every posting's entries sum to zero. Each account keeps its balance, moved by the posting that moves its
entries; `unbalanced_accounts` re-derives every balance from the entries and names any that differ.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, case, func, null, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from claims.audit import hold_chain
from claims.db import lock_rows
from claims.errors import Unprocessable
from claims.models import BudgetYear, LedgerAccount, LedgerEntry, LedgerPosting
from workflows.money import format_fen

_BUDGET_LOCK = 0x42554447  # "BUDG": creating a program-year budget row
PROGRAM_ACCOUNTS = ("appropriation", "available", "reserved", "paid", "recovered")


class BudgetExceeded(Unprocessable):
    """Approval refused: the program-year budget has less available than the amount."""

    code, title = "budget_exceeded", "Budget exhausted"


def account(session: Session, code: str, *, kind: str, program_code: str | None = None, year: int | None = None,
            institution_id: int | None = None) -> LedgerAccount:
    """Get a ledger account by its code, creating it if absent with an upsert (safe under concurrent first use)."""
    found = session.exec(select(LedgerAccount).where(LedgerAccount.code == code)).first()
    if found is None:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        # Two first payments of a year used to race on get-or-create (a unique violation, a 500): the loser
        # of an upsert inserts nothing and reads the winner's row.
        session.execute(insert(LedgerAccount).values(code=code, kind=kind, program_code=program_code, year=year,
                                                     institution_id=institution_id)
                        .on_conflict_do_nothing(index_elements=["code"]))
        found = session.exec(select(LedgerAccount).where(LedgerAccount.code == code)).one()
    return found


def program_account(session: Session, program_code: str, year: int, kind: str) -> LedgerAccount:
    """One of a program-year's accounts (available, reserved, paid, ...)."""
    return account(session, f"program:{program_code}:{year}:{kind}", kind=kind, program_code=program_code, year=year)


def institution_account(session: Session, institution_id: int, program_code: str, kind: str) -> LedgerAccount:
    """An institution's account within a program (receivable for recoveries owed back)."""
    return account(session, f"institution:{institution_id}:{program_code}:{kind}", kind=kind,
                   program_code=program_code, institution_id=institution_id)


def post(session: Session, *, kind: str, subject_type: str, subject_id: int, legs: list[tuple[LedgerAccount, int]],
         memo: str = "", voucher_no: str = "") -> LedgerPosting:
    """Write one balanced posting; refuses legs that do not sum to zero."""
    if sum(amount for _, amount in legs) != 0:
        raise ValueError(f"unbalanced posting {kind}: {legs}")
    posting = LedgerPosting(kind=kind, subject_type=subject_type, subject_id=subject_id, memo=memo,
                            voucher_no=voucher_no)
    session.add(posting)
    session.flush()
    moved: dict[int, int] = {}
    for acct, amount in legs:
        if amount:
            session.add(LedgerEntry(posting_id=posting.id, account_id=acct.id, amount_fen=amount))
            moved[acct.id] = moved.get(acct.id, 0) + amount
    session.flush()
    # Each moved account's row stays locked to commit. Every holder of such a lock first holds the audit
    # chain's lock, which each write takes once and keeps to commit, so two never wait on each other in a
    # cycle, whatever accounts and in whatever order their postings touch.
    hold_chain(session)
    session.execute(_MOVE_BALANCE, [{"account": account_id, "amount": amount}
                                    for account_id, amount in sorted(moved.items())])
    return posting


_ACCOUNTS = LedgerAccount.__table__  # Core: an ORM update given many parameter sets means "by primary key"
_MOVE_BALANCE = (update(_ACCOUNTS).where(_ACCOUNTS.c.id == bindparam("account"))
                 .values(balance_fen=_ACCOUNTS.c.balance_fen + bindparam("amount")))


def balance(session: Session, acct: LedgerAccount) -> int:
    """An account's balance as its row holds it now (debits positive)."""
    # The column, not the loaded object's attribute: the identity map keeps what this session first read.
    return int(session.execute(select(LedgerAccount.balance_fen).where(LedgerAccount.id == acct.id)).scalar_one())


def unbalanced_accounts(session: Session) -> list[tuple[str, int, int]]:
    """Accounts whose kept balance is not the sum of their entries: (code, kept, derived); none when the books agree."""
    # PostgreSQL sums BIGINT as NUMERIC (a Decimal in Python): money stays integer fen.
    derived = (select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_fen).label("total"))
               .group_by(LedgerEntry.account_id).subquery())
    total = func.coalesce(derived.c.total, 0)
    rows = session.execute(select(LedgerAccount.code, LedgerAccount.balance_fen, total)
                           .join(derived, derived.c.account_id == LedgerAccount.id, isouter=True)
                           .where(LedgerAccount.balance_fen != total).order_by(LedgerAccount.code)).all()
    return [(code, int(kept), int(summed)) for code, kept, summed in rows]


def lock_budget(session: Session, *, program_code: str, year: int, budget_fen: int | None) -> BudgetYear:
    """Lock the program-year budget row for this transaction, creating and funding it on first use.

    The row lock (FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE already serialises SQLite) makes
    concurrent approvals queue, so the availability check and the reservation are one atomic step.
    """
    statement = select(BudgetYear).where(BudgetYear.program_code == program_code, BudgetYear.year == year)
    row = session.exec(statement.with_for_update()).first()
    if row is not None:
        return row
    lock_rows(session, _BUDGET_LOCK)
    row = session.exec(statement.with_for_update()).first()
    if row is None:
        if budget_fen is None:
            raise Unprocessable(f"Program {program_code} has no budget for {year}.", code="no_budget")
        row = BudgetYear(program_code=program_code, year=year, amount_fen=budget_fen)
        session.add(row)
        session.flush()
        post(session, kind="appropriate", subject_type="budget", subject_id=row.id, memo=f"{year}年度预算",
             legs=[(program_account(session, program_code, year, "available"), budget_fen),
                   (program_account(session, program_code, year, "appropriation"), -budget_fen)])
    return row


def reserve_budget(session: Session, *, program_code: str, year: int, budget_fen: int | None, amount_fen: int,
                   subject_type: str, subject_id: int) -> LedgerPosting:
    """Reserve an approved amount against the program-year budget, refusing when too little is available."""
    lock_budget(session, program_code=program_code, year=year, budget_fen=budget_fen)
    available = program_account(session, program_code, year, "available")
    left = balance(session, available)
    if left < amount_fen:
        raise BudgetExceeded(
            f"The {year} budget of {program_code} has {format_fen(left)} available; {format_fen(amount_fen)} "
            f"cannot be reserved.", extra={"available": format_fen(left), "requested": format_fen(amount_fen)})
    return post(session, kind="reserve", subject_type=subject_type, subject_id=subject_id,
                legs=[(program_account(session, program_code, year, "reserved"), amount_fen), (available, -amount_fen)])


def release_budget(session: Session, *, program_code: str, year: int, amount_fen: int, subject_type: str,
                   subject_id: int) -> LedgerPosting:
    """Give a reservation back to the available budget (refusal or reduction after approval)."""
    lock_budget(session, program_code=program_code, year=year, budget_fen=None)
    return post(session, kind="release", subject_type=subject_type, subject_id=subject_id,
                legs=[(program_account(session, program_code, year, "available"), amount_fen),
                      (program_account(session, program_code, year, "reserved"), -amount_fen)])


def post_payment(session: Session, *, program_code: str, year: int, amount_fen: int, subject_type: str,
                 subject_id: int, voucher_no: str = "") -> LedgerPosting:
    """Turn a reservation into a payment (with the treasury's voucher number when there is one)."""
    return post(session, kind="pay", subject_type=subject_type, subject_id=subject_id, voucher_no=voucher_no,
                legs=[(program_account(session, program_code, year, "paid"), amount_fen),
                      (program_account(session, program_code, year, "reserved"), -amount_fen)])


def book_recovery(session: Session, *, program_code: str, year: int, institution_id: int, amount_fen: int,
                  subject_id: int) -> LedgerPosting:
    """Book the share of a recovery owed back to the program as a receivable from the institution."""
    return post(session, kind="recovery", subject_type="recovery", subject_id=subject_id,
                legs=[(institution_account(session, institution_id, program_code, "receivable"), amount_fen),
                      (program_account(session, program_code, year, "recovered"), -amount_fen)])


def receive_recovery(session: Session, *, program_code: str, year: int, institution_id: int, amount_fen: int,
                     subject_id: int, voucher_no: str) -> LedgerPosting:
    """The institution's remittance of a recovery share arrived: the receivable clears into the program's cash."""
    return post(session, kind="recovery_receipt", subject_type="recovery_receipt", subject_id=subject_id,
                voucher_no=voucher_no,
                legs=[(program_account(session, program_code, year, "received"), amount_fen),
                      (institution_account(session, institution_id, program_code, "receivable"), -amount_fen)])


def adjust_budget(session: Session, *, program_code: str, year: int, amount_fen: int, subject_id: int,
                  memo: str) -> LedgerPosting:
    """Raise (> 0) or lower (< 0) a program-year's appropriation; a cut never goes below reserved + paid."""
    row = lock_budget(session, program_code=program_code, year=year, budget_fen=None)
    available = program_account(session, program_code, year, "available")
    left = balance(session, available)
    if amount_fen < 0 and left < -amount_fen:
        raise BudgetExceeded(
            f"The {year} budget of {program_code} has {format_fen(left)} not reserved or paid; it cannot be cut by "
            f"{format_fen(-amount_fen)}.", extra={"available": format_fen(left), "requested": format_fen(-amount_fen)})
    row.amount_fen += amount_fen
    session.add(row)
    return post(session, kind="adjust", subject_type="adjustment", subject_id=subject_id, memo=memo,
                legs=[(available, amount_fen), (program_account(session, program_code, year, "appropriation"),
                                                -amount_fen)])


@dataclass(frozen=True)
class BudgetPosition:
    """A program-year's budget, reserved, paid, recovered and available amounts in fen."""

    program_code: str
    year: int
    budget_fen: int
    reserved_fen: int
    paid_fen: int
    recovered_fen: int
    available_fen: int


# Built once, bound per call: every filing on a budget-capped program runs it.
_POSITIONS = (select(LedgerAccount.year, LedgerAccount.kind, LedgerAccount.balance_fen)
              .where(LedgerAccount.program_code == bindparam("program_code"), LedgerAccount.year.is_not(None)))


def budget_positions(session: Session, *, program_code: str) -> list[BudgetPosition]:
    """Every fiscal year's budget position for a program, from its accounts' balances."""
    rows = session.execute(_POSITIONS, {"program_code": program_code}).all()
    by_year: dict[int, dict[str, int]] = {}
    for year, kind, total in rows:
        by_year.setdefault(year, {})[kind] = int(total)
    return [BudgetPosition(program_code=program_code, year=year, budget_fen=-k.get("appropriation", 0),
                           reserved_fen=k.get("reserved", 0), paid_fen=k.get("paid", 0),
                           recovered_fen=-k.get("recovered", 0), available_fen=k.get("available", 0))
            for year, k in sorted(by_year.items())]


# What is left of a program-year's budget (bound :program_code and :year), NULL while the year has no account
# yet: a scalar subquery, so a filing reads it inside its cap-usage statement rather than by one of its own.
AVAILABLE = (select(case((func.count() == 0, null()),
                         else_=func.coalesce(func.sum(case((LedgerAccount.kind == "available",
                                                            LedgerAccount.balance_fen))), 0)))
             .where(LedgerAccount.program_code == bindparam("program_code"), LedgerAccount.year == bindparam("year"))
             .correlate(None).scalar_subquery())


def available_or_budget(kept, budget_fen: int | None) -> int | None:
    """What AVAILABLE read, or the configured budget before the year has any account."""
    return budget_fen if kept is None else int(kept)


def trial_balance(session: Session) -> int:
    """The sum of every entry in the ledger: zero when the books balance."""
    return int(session.exec(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))).one())
