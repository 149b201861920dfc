"""Typed, dated facts recorded on a firm (revenue per fiscal year, headcount, research partner, zone), one or in bulk."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import BinaryIO

from sqlalchemy import or_
from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import NotFound, Unprocessable
from claims.models import Enterprise, EnterpriseAttribute
from claims.services.enterprises import ImportReport, RowResult
from claims.tabular import TabularError, read_table
from workflows.identifiers import IdentifierError, validate_uscc
from workflows.money import AmountError, format_fen, parse_amount, to_fen

_ZONE = re.compile(r"[0-9A-Za-z_.-]{1,32}\Z")
_TRUE, _FALSE = {"true", "1", "yes", "是"}, {"false", "0", "no", "否"}


def _money(text: str) -> str:
    # Stored as yuan with two decimals ("8000000.00"), the unit a program's range on it is written in.
    return format_fen(to_fen(parse_amount(text)))


def _count(text: str) -> str:
    if not text.strip().isdigit():
        raise ValueError(f"must be a whole number, got {text!r}")
    return str(int(text))


def _flag(text: str) -> str:
    lowered = text.strip().lower()
    if lowered in _TRUE | _FALSE:
        return "true" if lowered in _TRUE else "false"
    raise ValueError(f"must be true or false (是/否), got {text!r}")


def _code(text: str) -> str:
    if not _ZONE.match(text.strip()):
        raise ValueError(f"must be a code of 1-32 letters, digits, '_', '-' or '.', got {text!r}")
    return text.strip()


@dataclass(frozen=True)
class AttributeKind:
    """What an attribute holds, how its text is normalised, and whether it is a figure of a fiscal year."""

    label: str
    normalise: object
    per_fiscal_year: bool


ATTRIBUTES = {
    "revenue": AttributeKind("营业收入（元，按会计年度）", _money, True),
    "headcount": AttributeKind("从业人数", _count, False),
    "research_partner": AttributeKind("产学研合作单位", _flag, False),
    "zone": AttributeKind("所在园区/片区代码", _code, False),
}
ATTRIBUTE_COLUMNS = {
    "uscc": {"uscc", "统一社会信用代码"},
    "name": {"name", "attribute", "属性"},
    "value": {"value", "值"},
    "fiscal_year": {"fiscal_year", "会计年度", "年度"},
    "valid_from": {"valid_from", "有效期起"},
    "valid_to": {"valid_to", "有效期止"},
    "source": {"source", "来源"},
}


def check_attribute(session: Session, *, enterprise_id: int, name: str, value: str, fiscal_year: int | None,
                    valid_from: date | None, valid_to: date | None) -> tuple[str | None, list[dict]]:
    """(normalised value, reasons): the value's type, the fiscal year it needs, and no overlap with a recorded one."""
    kind = ATTRIBUTES.get(name)
    if kind is None:
        return None, [{"code": "attribute_unknown", "field": "name",
                       "message": f"unknown attribute {name!r}; one of {', '.join(sorted(ATTRIBUTES))}"}]
    reasons = []
    try:
        normalised = kind.normalise(value)
    except (ValueError, AmountError) as exc:
        normalised = None
        reasons.append({"code": "attribute_value_invalid", "field": "value", "message": f"{name} {exc}"})
    if kind.per_fiscal_year and fiscal_year is None:
        reasons.append({"code": "fiscal_year_required", "field": "fiscal_year",
                        "message": f"{name} is a figure of a fiscal year; give fiscal_year"})
    if fiscal_year is not None and not 1990 <= fiscal_year <= 2100:
        reasons.append({"code": "fiscal_year_invalid", "field": "fiscal_year", "message": "fiscal_year is not a year"})
    if valid_from and valid_to and valid_to < valid_from:
        reasons.append({"code": "period_inverted", "field": "valid_to", "message": "valid_to is before valid_from"})
    if reasons:
        return None, reasons
    same_year = EnterpriseAttribute.fiscal_year.is_(None) if fiscal_year is None else \
        EnterpriseAttribute.fiscal_year == fiscal_year
    # Two entries overlap unless one ends before the other starts (an open end reaches every date).
    dates = []
    if valid_from is not None:
        dates.append(or_(EnterpriseAttribute.valid_to.is_(None), EnterpriseAttribute.valid_to >= valid_from))
    if valid_to is not None:
        dates.append(or_(EnterpriseAttribute.valid_from.is_(None), EnterpriseAttribute.valid_from <= valid_to))
    overlapping = session.exec(select(EnterpriseAttribute.id).where(
        EnterpriseAttribute.enterprise_id == enterprise_id, EnterpriseAttribute.name == name, same_year, *dates,
    )).first()
    if overlapping:
        which = f" of fiscal year {fiscal_year}" if fiscal_year is not None else ""
        return None, [{"code": "attribute_overlaps", "field": "valid_from",
                       "message": f"{name}{which} is already recorded for these dates (entry {overlapping}); "
                                  f"end that one first"}]
    return normalised, []


def record_attribute(session: Session, *, principal: Principal, enterprise_id: int, name: str, value: str,
                     fiscal_year: int | None = None, valid_from: date | None = None, valid_to: date | None = None,
                     source: str = "") -> EnterpriseAttribute:
    """Record one typed, dated attribute on a firm (admin); audited."""
    principal.require("admin")
    begin_write(session)
    if session.get(Enterprise, enterprise_id) is None:
        raise NotFound(f"No enterprise {enterprise_id}.")
    normalised, reasons = check_attribute(session, enterprise_id=enterprise_id, name=name, value=value,
                                          fiscal_year=fiscal_year, valid_from=valid_from, valid_to=valid_to)
    if reasons:
        raise Unprocessable(reasons[0]["message"], code=reasons[0]["code"],
                            errors={r["field"]: [r["message"]] for r in reasons})
    attribute = _add(session, principal, enterprise_id, name, normalised, fiscal_year, valid_from, valid_to, source)
    session.commit()
    return attribute


def _add(session, principal, enterprise_id, name, value, fiscal_year, valid_from, valid_to, source, audit=True):
    attribute = EnterpriseAttribute(enterprise_id=enterprise_id, name=name, value=value, fiscal_year=fiscal_year,
                                    valid_from=valid_from, valid_to=valid_to, source=source[:200])
    session.add(attribute)
    session.flush()
    if audit:
        record_event(session, actor=principal.actor, entity="enterprise_attribute", entity_id=attribute.id,
                     action="recorded", data={"enterprise_id": enterprise_id, "name": name, "value": value,
                                              "fiscal_year": fiscal_year})
    return attribute


def attributes_of(session: Session, *, enterprise_id: int) -> list[EnterpriseAttribute]:
    """Every attribute recorded on a firm, by name and date."""
    return list(session.exec(select(EnterpriseAttribute).where(EnterpriseAttribute.enterprise_id == enterprise_id)
                             .order_by(EnterpriseAttribute.name, EnterpriseAttribute.fiscal_year,
                                       EnterpriseAttribute.valid_from, EnterpriseAttribute.id)))


def _optional_date(text: str, key: str, reasons: list[dict]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        reasons.append({"code": "invalid_date", "field": key, "message": f"{key} must be YYYY-MM-DD, got {text!r}"})
        return None


def import_attributes(session: Session, *, principal: Principal, stream: BinaryIO, filename: str,
                      max_rows: int = 100_000) -> ImportReport:
    """Import firm attributes from CSV or XLSX (admin), like list memberships: good rows land, bad ones say why."""
    principal.require("admin")
    begin_write(session)
    report = ImportReport()
    firms: dict[str, int | None] = {}
    try:
        rows = read_table(stream, filename, columns=ATTRIBUTE_COLUMNS,
                          optional=("fiscal_year", "valid_from", "valid_to", "source"), max_rows=max_rows)
        for row in rows:
            values, reasons, enterprise_id = row.values, [], None
            try:
                uscc = validate_uscc(values["uscc"])
                if uscc not in firms:
                    firms[uscc] = session.exec(select(Enterprise.id).where(Enterprise.uscc == uscc)).first()
                enterprise_id = firms[uscc]
                if enterprise_id is None:
                    reasons.append({"code": "enterprise_unknown", "field": "uscc",
                                    "message": f"no enterprise with 统一社会信用代码 {uscc}"})
            except IdentifierError as exc:
                reasons.append({"code": exc.code, "field": "uscc", "message": str(exc)})
            fiscal_year = None
            if values["fiscal_year"]:
                if values["fiscal_year"].isdigit():
                    fiscal_year = int(values["fiscal_year"])
                else:
                    reasons.append({"code": "fiscal_year_invalid", "field": "fiscal_year",
                                    "message": f"fiscal_year must be a year, got {values['fiscal_year']!r}"})
            valid_from = _optional_date(values["valid_from"], "valid_from", reasons)
            valid_to = _optional_date(values["valid_to"], "valid_to", reasons)
            normalised = None
            if not reasons:
                normalised, reasons = check_attribute(session, enterprise_id=enterprise_id, name=values["name"],
                                                      value=values["value"], fiscal_year=fiscal_year,
                                                      valid_from=valid_from, valid_to=valid_to)
            if reasons:
                report.rejected += 1
                report.rows.append(RowResult(row=row.number, status="rejected", reasons=reasons))
                continue
            attribute = _add(session, principal, enterprise_id, values["name"], normalised, fiscal_year, valid_from,
                             valid_to, values["source"], audit=False)
            report.accepted += 1
            report.rows.append(RowResult(row=row.number, status="accepted", id=attribute.id))
    except TabularError as exc:
        session.rollback()
        raise Unprocessable(exc.detail, code=exc.code, extra={"row": exc.row} if exc.row else None) from exc
    record_event(session, actor=principal.actor, entity="enterprise_attribute", entity_id=filename[:64],
                 action="imported", data={"accepted": report.accepted, "rejected": report.rejected})
    session.commit()
    return report
