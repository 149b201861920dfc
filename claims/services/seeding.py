"""Load reference data from seeds/ (idempotently) and, for demos, staff users and well-known keys."""
from __future__ import annotations

import csv
import functools
import hashlib
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import hash_password, hash_api_secret
from claims.models import (ApiKey, Enterprise, EnterpriseCategory, Individual, Institution, ListMembership, User,
                           UserProgram)
from claims.models.user import ALL_PROGRAMS
from claims.settings import ROOT
from workflows.identifiers import validate_resident_id, validate_uscc
from workflows.money import parse_amount, to_fen

SEEDS = ROOT / "seeds"

# Demo staff: one person per role on every program, a second reviewer and a second admin so four-eyes
# review and maker-checker on rule versions can be tried, and a reviewer granted only Ningbo's pool, to
# show that roles apply per program.
DEMO_USERS = [
    ("admin", "系统管理员", "admin", "admin-demo-pass"),
    ("admin2", "系统管理员 周杰", "admin", "admin2-demo-pass"),
    ("reviewer1", "初审员 张敏", "reviewer", "reviewer1-demo-pass"),
    ("reviewer2", "初审员 李强", "reviewer", "reviewer2-demo-pass"),
    ("approver1", "复审员 王芳", "approver", "approver1-demo-pass"),
    ("approver2", "复审员 陈刚", "approver", "approver2-demo-pass"),
    ("payer1", "拨付员 赵丽", "payer", "payer1-demo-pass"),
    ("auditor1", "审计员 孙涛", "auditor", "auditor1-demo-pass"),
    ("reviewer_nb", "初审员 周洁（宁波）", "reviewer", "reviewer-nb-demo-pass"),
]
# The programs each demo user's roles apply to (everyone else: every program, "*").
DEMO_GRANTS = {"reviewer_nb": ("nb-whitelist-pool",)}


@dataclass
class SeedReport:
    """How many rows of each kind were added (existing rows are left as they are)."""

    added: dict[str, int] = field(default_factory=dict)
    demo_keys: dict[str, str] = field(default_factory=dict)

    def count(self, kind: str) -> None:
        """Count one added row."""
        self.added[kind] = self.added.get(kind, 0) + 1


def _rows(name: str) -> list[dict[str, str]]:
    path = SEEDS / name
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def load_reference_data(session: Session, report: SeedReport) -> None:
    """Categories, institutions, enterprises, individuals and list memberships from seeds/*.csv."""
    for row in _rows("categories.csv"):
        if session.get(EnterpriseCategory, row["code"]) is None:
            session.add(EnterpriseCategory(code=row["code"], name=row["name"], validity_note=row.get("validity_note", "")))
            report.count("category")
    session.flush()
    for row in _rows("institutions.csv"):
        if session.exec(select(Institution).where(Institution.code == row["code"])).first() is None:
            session.add(Institution(code=row["code"], kind=row["kind"], name=row["name"],
                                    uscc=validate_uscc(row["uscc"])))
            report.count("institution")
    enterprises = {e.uscc: e for e in session.exec(select(Enterprise))}
    for row in _rows("enterprises.csv"):
        uscc = validate_uscc(row["uscc"])
        if uscc not in enterprises:
            revenue = row.get("annual_revenue") or ""
            enterprise = Enterprise(uscc=uscc, name=row["name"], size=row.get("size") or "small",
                                    annual_revenue_fen=to_fen(parse_amount(revenue)) if revenue else None,
                                    district=row.get("district", ""), industry=row.get("industry", ""))
            session.add(enterprise)
            enterprises[uscc] = enterprise
            report.count("enterprise")
    session.flush()
    individuals_file = SEEDS / "individuals.csv"
    if individuals_file.exists():
        known = {i.resident_id for i in session.exec(select(Individual))}
        for row in _rows("individuals.csv"):
            resident_id = validate_resident_id(row["resident_id"])
            if resident_id not in known:
                session.add(Individual(resident_id=resident_id, name=row["name"]))
                report.count("individual")
    existing = {(m.enterprise_id, m.category, m.valid_from) for m in session.exec(select(ListMembership))}
    for row in _rows("list_memberships.csv"):
        enterprise = enterprises[validate_uscc(row["uscc"])]
        valid_from = date.fromisoformat(row["valid_from"])
        if (enterprise.id, row["category"], valid_from) in existing:
            continue
        session.add(ListMembership(enterprise_id=enterprise.id, category=row["category"], valid_from=valid_from,
                                   valid_to=date.fromisoformat(row["valid_to"]) if row.get("valid_to") else None,
                                   certificate_no=row.get("certificate_no", ""), source=row.get("source", "")))
        existing.add((enterprise.id, row["category"], valid_from))
        report.count("list_membership")
    session.flush()


def demo_api_key(code: str) -> tuple[str, str]:
    """The well-known demo key (prefix, plaintext) of a seeded institution; demo databases only."""
    slug = code.lower().replace("_", "")
    prefix = ("demo" + slug)[:16]
    secret = f"demo-{slug}-" + hashlib.sha256(f"demo:{code}".encode()).hexdigest()[:16]
    return prefix, f"ck_{prefix}_{secret}"


@functools.lru_cache(maxsize=None)
def _demo_password_hash(password: str) -> str:
    # argon2 is slow on purpose; demo passwords are fixed, so one hash per process is enough.
    return hash_password(password)


def load_demo_access(session: Session, report: SeedReport) -> None:
    """Demo staff users (one per role) and a well-known API key per seeded institution."""
    for username, display, roles, password in DEMO_USERS:
        if session.exec(select(User).where(User.username == username)).first() is None:
            user = User(username=username, display_name=display, roles=roles,
                        password_hash=_demo_password_hash(password))
            session.add(user)
            session.flush()
            for code in DEMO_GRANTS.get(username, (ALL_PROGRAMS,)):
                session.add(UserProgram(user_id=user.id, program_code=code, granted_by="seed --demo"))
            report.count("user")
    for institution in session.exec(select(Institution).order_by(Institution.id)):
        prefix, plaintext = demo_api_key(institution.code)
        report.demo_keys[institution.code] = plaintext
        if session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first() is None:
            secret = plaintext.split("_", 2)[2]
            session.add(ApiKey(institution_id=institution.id, prefix=prefix, secret_hash=hash_api_secret(secret),
                               label="demo"))
            report.count("api_key")
    session.flush()


def record_seeding(session: Session, report: SeedReport) -> None:
    """One audit event for the whole seeding run, if it added anything."""
    if report.added:
        record_event(session, actor="system", entity="seed", entity_id="seeds", action="loaded",
                     data={"added": report.added})


def sync_programs(session: Session, registry, report: SeedReport) -> None:
    """Publish every program version of the seed files (load_programs(config/programs)) and load the LPR history.

    The files are seeds: once published, the database is the one source of truth for every use case.
    """
    from claims.services.lpr import load_fixings
    from claims.services.programs import publish_rule

    program_dirs = set()
    for code in registry.programs():
        for rule in registry.versions(code):
            if publish_rule(session, rule=rule, actor="system"):
                report.count("rule_version")
            if rule.path is not None:
                program_dirs.add(rule.path.parent.parent)
    # The LPR history sits beside the program directories (config/programs/lpr.toml).
    for directory in sorted(program_dirs):
        for _ in range(load_fixings(session, directory / "lpr.toml")):
            report.count("lpr_fixing")


def load_demo_admissions(session: Session, report: SeedReport) -> None:
    """Admit each seeded institution to the programs its kind takes part in."""
    from claims.models import Admission, Program

    takes_part = {
        "bank": {"risk_pool", "guarantee_fund", "interest_subsidy", "fee_subsidy", "reward"},
        "insurer": {"reward"},
        "guarantor": {"guarantee_fund", "fee_subsidy"},
    }
    admitted = {(a.institution_id, a.program_code) for a in session.exec(select(Admission))}
    for institution in session.exec(select(Institution).order_by(Institution.id)):
        for code, kind in session.exec(select(Program.code, Program.kind).order_by(Program.code)):
            if kind in takes_part.get(institution.kind, set()) and (institution.id, code) not in admitted:
                session.add(Admission(institution_id=institution.id, program_code=code))
                report.count("admission")
    session.flush()
