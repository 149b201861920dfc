"""Access matrix: every endpoint of the route table × every kind of caller, against the designed answer.

Callers: bank A (owner of the rows), bank B (another tenant), reviewer, approver, payer, admin,
auditor, a reviewer granted only another program (reviewer_nb), anonymous, a revoked API key and an
expired staff token. Allowed callers succeed (2xx); bank B gets 404 on bank A's rows, and so does the
other program's reviewer on bank A's claims and applications; any other role gets 403; missing, revoked
or expired credentials get 401 — on every secured endpoint, before any input is looked at. The endpoints come from the
app's route table: a new endpoint fails `test_every_endpoint_has_a_declared_policy` until it has a
row in POLICY, and the credential rows cover it from the start.
"""
from __future__ import annotations

import io
import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from claims.errors import Conflict
from claims.auth import Principal, issue_api_key, issue_token
from claims.models import Enterprise, Institution, ListMembership, User
from claims.services import claims as claim_service
from claims.services.seeding import DEMO_USERS
from claims.services import loans as loan_service
from claims.services import recoveries
from tests.helpers import attach_required, blank_pdf
from workflows.identifiers import make_uscc
from workflows.rules import load_rule

TODAY = date(2026, 3, 2)
BANKS = ("bank_a", "bank_b")
STAFF = ("reviewer", "approver", "payer", "admin", "auditor")
SCOPED = "reviewer_nb"  # a reviewer whose grant is nb-whitelist-pool only; bank A's rows are Shenzhen programs
BAD_CREDENTIALS = {"anonymous": "credentials_required", "revoked_key": "api_key_revoked",
                   "expired_token": "token_expired"}
ROLES = BANKS + STAFF + (SCOPED,) + tuple(BAD_CREDENTIALS)
EVERYONE = frozenset(BANKS + STAFF + (SCOPED,))
STAFF_CALLERS = frozenset(STAFF + (SCOPED,))
PUBLIC = frozenset(ROLES)
STAFF_USERNAMES = {"reviewer": "reviewer1", "approver": "approver2", "payer": "payer1", "admin": "admin",
                   "auditor": "auditor1", SCOPED: "reviewer_nb"}
NON_API = {"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "api-docs.openapi_redoc",
           "docs_assets.swagger_ui_asset", "docs_assets.redoc_asset", "errors.error_catalogue", "errors.error_entry"}
CHECKED: Counter = Counter()
DEMO_PASSWORDS = {username: password for username, _, _, password in DEMO_USERS}
BULK_HEADER = b"program,contract_no,principal,disbursed_on,maturity_on,security_type\n"
PDF = blank_pdf()


@dataclass
class Call:
    """One request: method, path and what it carries."""

    method: str
    path: str
    json: dict | None = None
    data: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    content_type: str | None = None


class World:
    """Builds bank A's rows through the use cases, fresh for each caller that may change them."""

    def __init__(self, app, callers, db=None, test_callers=None):
        self.app, self.callers, self.db, self.test_callers = app, callers, db, test_callers
        self._statement_id: int | None = None
        self.session = app.extensions["claims"]["sessions"]()
        self.registry = app.extensions["claims"]["programs"]
        self.serial = itertools.count(1)
        listed = set(self.session.exec(select(ListMembership.enterprise_id)))
        firms = [e for e in self.session.exec(select(Enterprise).order_by(Enterprise.id))
                 if not (e.industry or "").upper().startswith("K") and e.uscc.startswith("9144")]
        self.firms = iter(sorted(firms, key=lambda e: (e.id in listed, e.id)))
        self.bank_a = self._bank("BANK_A")
        self.admin = self._staff("admin")

    def _bank(self, code: str) -> Principal:
        institution = self.session.exec(select(Institution).where(Institution.code == code)).one()
        return Principal(kind="institution", name=institution.name, roles=frozenset({"institution"}),
                         institution_id=institution.id)

    def _staff(self, username: str) -> Principal:
        user = self.session.exec(select(User).where(User.username == username)).one()
        return Principal(kind="staff", name=user.display_name, roles=user.role_set, user_id=user.id)

    def loan(self, status: str = "registered"):
        """A fresh bank A loan to a firm of its own, reported in the given status."""
        disbursed = TODAY - timedelta(days=200)
        item = loan_service.LoanInput(
            program="sz-sme-pool", contract_no=f"MATRIX-{next(self.serial):04d}", principal_fen=100_000_000,
            disbursed_on=disbursed, maturity_on=disbursed + timedelta(days=364), annual_rate=Decimal("0.0385"),
            security_type="unsecured", enterprise_uscc=next(self.firms).uscc)
        loan = loan_service.register_loan(self.session, principal=self.bank_a, registry=self.registry, item=item,
                                          today=disbursed + timedelta(days=5))
        if status != "registered":
            loan = loan_service.report_loan_status(self.session, principal=self.bank_a, loan_id=loan.id,
                                                   status=status, as_of=TODAY - timedelta(days=20),
                                                   days_overdue=120)
        return loan

    def claim(self, state: str = "draft", complete: bool = False):
        """A fresh bank A claim taken to the state through the review flow (with its documents when complete)."""
        from claims.services.demo import PATHS, attach_required_documents

        loan = self.loan("non_performing")
        claim = claim_service.file_claim(
            self.session, principal=self.bank_a, registry=self.registry, loan_id=loan.id, today=TODAY - timedelta(days=10),
            data=claim_service.ClaimInput(default_on=TODAY - timedelta(days=140), outstanding_principal_fen=75_000_000,
                                          days_overdue=120, classification="substandard"))
        actors = {"reviewer": self._staff("reviewer1"), "approver": self._staff("approver1"),
                  "payer": self._staff("payer1")}
        if PATHS[state] or complete:
            attach_required_documents(self.session, principal=self.bank_a, registry=self.registry,
                                      subject_type="claim", subject=claim,
                                      settings=self.app.extensions["claims"]["settings"])
        for actor, action, extra in PATHS[state]:
            who = self.bank_a if actor == "bank" else actors[actor]
            claim = claim_service.transition_claim(self.session, principal=who, registry=self.registry,
                                                   claim_id=claim.id, action=action, expected_version=claim.version,
                                                   today=TODAY - timedelta(days=10), **extra)
        return claim

    def document(self, claim_id: int) -> int:
        """A PDF attached to a bank A claim, through the API."""
        client = self.app.test_client()
        response = client.post(f"/claims/{claim_id}/documents", headers=self.callers["bank_a"],
                               data={"kind": "claim_form", "file": (io.BytesIO(PDF), "form.pdf")},
                               content_type="multipart/form-data")
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def application_document(self, application_id: int) -> int:
        """A PDF attached to a bank A application, through the API."""
        response = self.app.test_client().post(
            f"/applications/{application_id}/documents", headers=self.callers["bank_a"],
            data={"kind": "application_form", "file": (io.BytesIO(PDF), "form.pdf")}, content_type="multipart/form-data")
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def endpoint(self) -> int:
        """A webhook endpoint of bank A, made once per world (an institution may hold ten)."""
        from claims.services import webhooks

        if getattr(self, "_endpoint_id", None) is None:
            endpoint, _ = webhooks.register_endpoint(self.session, principal=self.bank_a,
                                                     settings=self.app.extensions["claims"]["settings"],
                                                     url="http://127.0.0.1:9/hooks", event_types=["claim.*"])
            self._endpoint_id = endpoint.id
        return self._endpoint_id

    def delivery(self) -> tuple[int, int]:
        """(endpoint, delivery) of bank A: an endpoint and one event owed to it."""
        from claims.models import WebhookDelivery
        from claims.services import events

        from claims.db import begin_write

        endpoint_id = self.endpoint()
        begin_write(self.session)  # a fresh write transaction: the world's session may hold an old read snapshot
        events.emit(self.session, type="claim.submitted", institution_id=self.bank_a.institution_id,
                    subject_type="claim", subject_id=0, data={"claim": 0})
        self.session.commit()
        delivery = self.session.exec(select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
                                     .order_by(WebhookDelivery.id.desc())).first()
        return endpoint_id, delivery

    def user_id(self, username: str) -> int:
        """A demo staff user's id."""
        return self.session.exec(select(User.id).where(User.username == username)).one()

    def refresh_token(self) -> str:
        """The refresh token of a fresh auditor1 session."""
        from claims.auth import open_session

        user = self.session.exec(select(User).where(User.username == "auditor1")).one()
        _, _, refresh = open_session(self.session, user, access_ttl=600, refresh_ttl=3600)
        self.session.commit()
        return refresh

    def institution_id(self, code: str = "BANK_A") -> int:
        """A seeded institution's id."""
        return self.session.exec(select(Institution.id).where(Institution.code == code)).one()

    def fresh_key_prefix(self) -> str:
        """The prefix of a new bank C key (so revoking it leaves the matrix's callers intact)."""
        institution = self.session.exec(select(Institution).where(Institution.code == "BANK_C")).one()
        key, _ = issue_api_key(self.session, institution=institution, label="matrix")
        self.session.commit()
        return key.prefix

    def new_uscc(self) -> str:
        """A valid 统一社会信用代码 no seeded firm has."""
        return make_uscc(f"91440300MA{next(self.serial) + 5_000_000:07d}")

    def bulk_report(self) -> str:
        """The id of a bulk registration report bank A uploaded."""
        client = self.app.test_client()
        response = client.post("/loans/bulk", headers=self.callers["bank_a"], content_type="multipart/form-data",
                               data={"file": (io.BytesIO(BULK_HEADER),
                                              "loans.csv")})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["report_id"]


    def membership(self) -> tuple[int, int]:
        """(enterprise id, id) of a fresh open-ended list entry, to end or revoke."""
        from claims.models import ListMembership as Entry

        entry = Entry(enterprise_id=1, category="high_tech", valid_from=date(1900 + next(self.serial), 1, 1))
        self.session.add(entry)
        self.session.commit()
        return 1, entry.id

    def rule_change(self) -> int:
        """A fresh pending rule change: a second admin proposes a far-future sz-tech-fee version."""
        from claims.services.rule_changes import pending_change, propose_version

        n = next(self.serial)
        shipped = load_rule(Path(__file__).resolve().parents[2] / "config/programs/sz-tech-fee/2023.1.toml")
        # Its worked examples are dated inside the shipped version, not this one.
        document = {k: v for k, v in shipped.to_dict().items() if k != "examples"}
        document["program"] = {**document["program"], "version": f"2100.{n}", "effective_from": f"{2100 + n}-01-01",
                               "effective_to": f"{2100 + n}-12-31"}
        row, _ = propose_version(self.session, principal=self._staff("admin2"), code="sz-tech-fee",
                                 document=document, sha256=f"matrix-{n}")
        return pending_change(self.session, row).id

    def draft(self) -> str:
        """A fresh draft of sz-sme-pool, dated far in the future so that it may be proposed."""
        from claims.services.drafts import copy_to_draft

        n = next(self.serial)
        row = copy_to_draft(self.session, principal=self.admin, code="sz-sme-pool", from_version="2023.1",
                            version=f"2200.{n}", changes={"program.effective_from": f"{2200 + n}-01-01",
                                                          "program.effective_to": f"{2200 + n}-12-31"})
        return row.version

    def free_simulation_slot(self) -> None:
        """Ask every unfinished simulation of sz-sme-pool to stop: a program runs one at a time."""
        from claims.models import Simulation
        from claims.services.simulations import cancel_simulation

        self.session.commit()  # a fresh snapshot: the API may have started one since
        for simulation_id in self.session.exec(select(Simulation.id).where(
                Simulation.program_code == "sz-sme-pool", Simulation.status.in_(("queued", "running")),
                Simulation.cancel_requested.is_(False))).all():
            try:
                cancel_simulation(self.session, principal=self.admin, code="sz-sme-pool", simulation_id=simulation_id)
            except Conflict:  # it finished meanwhile: the slot is free all the same
                self.session.rollback()

    def simulation(self) -> int:
        """A finished simulation of a fresh draft over 2026 (run here, not on a background thread)."""
        from claims.services.simulations import run_simulation, start_simulation

        self.free_simulation_slot()
        simulation = start_simulation(self.session, principal=self.admin, code="sz-sme-pool", version=self.draft(),
                                      kinds=["claims"], date_from=date(2026, 1, 1), date_to=date(2026, 12, 31),
                                      institutions=[])
        run_simulation(self.app.extensions["claims"]["sessions"], self.registry, simulation.id)
        return simulation.id

    def subsidy_loan(self) -> int:
        """A fresh bank A first loan to a high-tech firm (2024-03-15), the base of an interest subsidy; today 2024-10-10."""
        from tests.api.test_subsidies import listed_firms

        client, ext = self.app.test_client(), self.app.extensions["claims"]
        firms = listed_firms(self.db, date(2024, 10, 10))
        ext["today"] = date(2024, 3, 20)
        loan = client.post("/loans", headers=self.callers["bank_a"], json={
            "program": "sz-sme-pool", "contract_no": f"TI-MX-{next(self.serial)}", "principal": "2000000.00",
            "enterprise_uscc": firms[next(self.serial) % len(firms)].uscc, "disbursed_on": "2024-03-15",
            "maturity_on": "2025-03-14", "annual_rate": "0.0600", "first_loan": True})
        assert loan.status_code == 201, loan.get_json()
        ext["today"] = date(2024, 10, 10)
        return loan.get_json()["id"]

    def application(self, steps: tuple[tuple[str, str], ...] = (), complete: bool = False) -> dict:
        """A fresh bank A interest-subsidy application for 2024Q3, taken through the review steps."""
        client = self.app.test_client()
        application = client.post("/applications", headers=self.callers["bank_a"], json=subsidy_body(
            self.subsidy_loan()))
        assert application.status_code == 201, application.get_json()
        application = application.get_json()
        if steps or complete:
            application = attach_required(client, self.callers["bank_a"], application, "applications")
        for who, action in steps:
            moved = client.post(f"/applications/{application['id']}/transitions", json={"action": action},
                                headers={**self.callers[who], "If-Match": f'"{application["version"]}"'})
            assert moved.status_code == 200, moved.get_json()
            application = moved.get_json()
        return application

    def statement_id(self) -> int:
        """Bank A's 2026Q3 statement, issued by the admin's run of period_statements (built once per test)."""
        if self._statement_id is None:
            from reports.periods import parse_period
            from tests.integration.statement_history import build_history

            client = self.app.test_client()
            build_history(self.app, client, self.test_callers, self.db, parse_period("2026Q3"))
            self.app.extensions["claims"]["today"] = date(2026, 10, 9)
            run = client.post("/jobs/period_statements/run", json={"period": "2026Q3"}, headers=self.callers["admin"])
            assert run.status_code == 200, run.get_json()
            own = client.get("/statements", headers=self.callers["bank_a"]).get_json()
            self._statement_id = own[0]["id"]
        return self._statement_id


    def payable_claim(self) -> int:
        """A fresh approved bank A claim, with bank A's payee account on record."""
        from claims.services import payments

        payments.set_payee_account(self.session, principal=self.admin, institution_id=self.institution_id(),
                                   account_name="示例科技银行", bank_name="示例科技银行深圳分行",
                                   account_no="6222021001045678901")
        return self.claim("approved").id

    def batch(self) -> tuple[int, str]:
        """A payment batch of one approved claim; (its id, its line's reference)."""
        from claims.services import payments

        batch = payments.build_batch(self.session, principal=self._staff("payer1"), program_code="sz-sme-pool",
                                     claim_ids=[self.payable_claim()], purpose="矩阵测试")
        return batch.id, f"PB{batch.id:06d}-0001"

    def recovery(self) -> int:
        """A recovery on a fresh paid bank A claim, with its share owed back booked."""
        claim = self.claim("paid")
        recovery = recoveries.record_recovery(self.session, principal=self.bank_a, registry=self.registry,
                                                 claim_id=claim.id, amount_fen=10_000_00, costs_fen=0,
                                                 recovered_on=TODAY - timedelta(days=1), today=TODAY)
        return recovery.id

    def remittance(self) -> int:
        """Bank A's reported remittance of a recovery share, awaiting the bureau's receipt."""
        from claims.services import settlement

        return settlement.report_remittance(self.session, principal=self.bank_a, recovery_id=self.recovery(),
                                            amount_fen=1, remitted_on=TODAY, bank_reference="MX").id

    def adjustment(self) -> int:
        """A budget increase proposed by another admin than the matrix's."""
        from claims.services import settlement

        other = Principal(kind="staff", name="另一管理员", roles=frozenset({"admin"}), user_id=None)
        return settlement.propose_adjustment(self.session, principal=other, program_code="sz-sme-pool", year=2026,
                                             amount_fen=1_000_00, reason="矩阵测试").id

def _with_etag(claim, **extra) -> dict[str, str]:
    return {"If-Match": f'"{claim.version}"', **extra}


# role -> (state of a fresh claim, the action that role takes on it)
TRANSITIONS = {"bank_a": ("draft", "submit"), "bank_b": ("draft", "submit"), "reviewer": ("submitted", "start_review"),
               "approver": ("second_review", "approve"), "payer": ("approved", "pay"), "admin": ("submitted", "defer"),
               "auditor": ("submitted", "start_review"), SCOPED: ("submitted", "start_review")}


def _transition(w: World, role: str) -> Call:
    state, action = TRANSITIONS.get(role, ("draft", "submit"))
    claim = w.claim(state, complete=True)
    return Call("POST", f"/claims/{claim.id}/transitions", json={"action": action}, headers=_with_etag(claim))


def _membership_csv(w: World, role: str) -> Call:
    return Call("POST", "/list-memberships/import",
                data={"file": (io.BytesIO(b"uscc,category,valid_from\n"), "members.csv")})


def _bulk_loans(w: World, role: str) -> Call:
    return Call("POST", "/loans/bulk", data={"file": (io.BytesIO(
        BULK_HEADER), "loans.csv")})


def _new_loan(w: World, role: str) -> Call:
    return Call("POST", "/loans", json={"program": "sz-sme-pool", "contract_no": f"MX-{next(w.serial)}",
                                        "enterprise_uscc": next(w.firms).uscc, "principal": "500000.00",
                                        "disbursed_on": "2026-02-20", "maturity_on": "2027-02-19"})


def _new_claim(w: World, role: str) -> Call:
    loan = w.loan("non_performing")
    return Call("POST", "/claims", json={"loan_id": loan.id, "default_on": "2025-10-20",
                                         "outstanding_principal": "700000.00", "days_overdue": 120})


def _document_upload(w: World, role: str) -> Call:
    return Call("POST", f"/claims/{w.claim('draft').id}/documents",
                data={"kind": "claim_form", "file": (io.BytesIO(PDF), "form.pdf")})


def _document_download(w: World, role: str) -> Call:
    claim = w.claim("draft")
    return Call("GET", f"/claims/{claim.id}/documents/{w.document(claim.id)}")


# role -> the review steps that bring a fresh application to the state where that role acts, and the action
APPLICATION_STEPS = {
    "submitted": (("bank_a", "submit"),),
    "second_review": (("bank_a", "submit"), ("reviewer", "start_review"), ("reviewer", "pass")),
    "approved": (("bank_a", "submit"), ("reviewer", "start_review"), ("reviewer", "pass"), ("approver_1", "approve")),
}


def _application_transition(w: World, role: str) -> Call:
    state, action = TRANSITIONS.get(role, ("draft", "submit"))
    application = w.application(APPLICATION_STEPS.get(state, ()), complete=True)
    return Call("POST", f"/applications/{application['id']}/transitions", json={"action": action},
                headers={"If-Match": f'"{application["version"]}"'})


def subsidy_body(loan_id: int) -> dict:
    """An interest-subsidy application for 2024Q3 on the loan."""
    return {"program": "sz-tech-interest", "loan_id": loan_id, "period_start": "2024-07-01",
            "period_end": "2024-09-30", "basis": "30163.93"}


def _new_application(w: World, role: str) -> Call:
    return Call("POST", "/applications", json=subsidy_body(w.subsidy_loan()))


def _program_file(w: World, role: str) -> Call:
    source = (Path(__file__).resolve().parents[2] / "config/programs/sz-sme-pool/2023.1.toml").read_text()
    return Call("POST", "/programs/sz-sme-pool/versions", body=source.encode(), content_type="application/toml")


def _program_draft(w: World, role: str) -> Call:
    shipped = load_rule(Path(__file__).resolve().parents[2] / "config/programs/sz-sme-pool/2023.1.toml")
    document = {k: v for k, v in shipped.to_dict().items() if k != "examples"}
    document["program"] = {**document["program"], "version": f"2400.{next(w.serial)}"}
    return Call("POST", "/programs/sz-sme-pool/drafts", json=document)


def _simulation_start(w: World, role: str) -> Call:
    w.free_simulation_slot()
    return Call("POST", "/programs/sz-sme-pool/simulations", json={"version": w.draft(), "date_from": "2026-01-01",
                                                                   "date_to": "2026-01-01"})


def _simulation_cancel(w: World, role: str) -> Call:
    """A queued simulation (nobody runs it here), cancelled."""
    from claims.services.simulations import start_simulation

    w.free_simulation_slot()
    simulation = start_simulation(w.session, principal=w.admin, code="sz-sme-pool", version=w.draft(),
                                  kinds=["claims"], date_from=date(2026, 1, 1), date_to=date(2026, 12, 31),
                                  institutions=[])
    return Call("POST", f"/programs/sz-sme-pool/simulations/{simulation.id}/cancel", json={})


def _simulation_item(w: World, role: str) -> Call:
    """One repriced item of a finished simulation: one of bank A's claims, approved and so in the history."""
    claim_id = w.claim("approved").id
    return Call("GET", f"/programs/sz-sme-pool/simulations/{w.simulation()}/items/{claim_id}")


@dataclass(frozen=True)
class Policy:
    """Who may call an operation, whether bank A owns the row it names, and how to build a request for a role."""

    allowed: frozenset[str]
    build: object
    owned_by_bank_a: bool = False
    program_scoped: bool = False  # a claim or application row: staff see it only on their granted programs


def _get(path_of) -> object:
    return lambda w, role: Call("GET", path_of(w))


POLICY: dict[str, Policy] = {
    "GET /health": Policy(PUBLIC, _get(lambda w: "/health")),
    "POST /auth/token": Policy(PUBLIC, lambda w, r: Call("POST", "/auth/token", json={
        "username": "auditor1", "password": "auditor1-demo-pass"})),
    "POST /auth/refresh": Policy(PUBLIC, lambda w, r: Call("POST", "/auth/refresh", json={
        "refresh_token": w.refresh_token()})),
    "POST /auth/logout": Policy(STAFF_CALLERS, lambda w, r: Call("POST", "/auth/logout")),
    "POST /auth/password": Policy(STAFF_CALLERS, lambda w, r: Call("POST", "/auth/password", json={
        "current_password": DEMO_PASSWORDS.get(STAFF_USERNAMES.get(r, ""), "x"),
        "new_password": "Matrix-Strong-Pass-2026!"})),
    "GET /users": Policy(frozenset({"admin"}), _get(lambda w: "/users")),
    "POST /users": Policy(frozenset({"admin"}), lambda w, r: Call("POST", "/users", json={
        "username": f"matrix{next(w.serial)}", "display_name": "矩阵测试员", "password": "Matrix-Strong-Pass-2026!",
        "roles": ["reviewer"], "programs": ["sz-sme-pool"]})),
    "PUT /users/{user_id}/programs": Policy(frozenset({"admin"}), lambda w, r: Call(
        "PUT", f"/users/{w.user_id('reviewer2')}/programs", json={"programs": ["*"]})),
    "POST /users/{user_id}/deactivate": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", f"/users/{w.user_id('reviewer2')}/deactivate")),
    "POST /users/{user_id}/activate": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", f"/users/{w.user_id('reviewer2')}/activate")),
    "POST /users/{user_id}/unlock": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", f"/users/{w.user_id('reviewer2')}/unlock")),
    "GET /audit/verify": Policy(frozenset({"admin", "auditor"}), _get(lambda w: "/audit/verify")),
    "GET /institutions": Policy(EVERYONE, _get(lambda w: "/institutions")),
    "POST /institutions": Policy(frozenset({"admin"}), lambda w, r: Call("POST", "/institutions", json={
        "code": f"BANK_MX{next(w.serial)}", "kind": "bank", "name": "矩阵测试银行", "uscc": w.new_uscc()})),
    "GET /institutions/{institution_id}": Policy(EVERYONE, _get(lambda w: f"/institutions/{w.institution_id()}"),
                                                 owned_by_bank_a=True),
    "GET /institutions/{institution_id}/keys": Policy(frozenset(BANKS) | {"admin"},
                                                      _get(lambda w: f"/institutions/{w.institution_id()}/keys"),
                                                      owned_by_bank_a=True),
    "POST /institutions/{institution_id}/keys": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", f"/institutions/{w.institution_id('BANK_C')}/keys", json={"label": "matrix"})),
    "DELETE /institutions/keys/{prefix}": Policy(frozenset({"admin"}), lambda w, r: Call(
        "DELETE", f"/institutions/keys/{w.fresh_key_prefix()}")),
    "GET /enterprises": Policy(EVERYONE, _get(lambda w: "/enterprises")),
    "POST /enterprises": Policy(frozenset(BANKS) | {"admin"}, lambda w, r: Call("POST", "/enterprises", json={
        "uscc": w.new_uscc(), "name": "深圳市矩阵测试科技有限公司"})),
    "GET /enterprises/{enterprise_id}": Policy(EVERYONE, _get(lambda w: "/enterprises/1")),
    "GET /enterprise-categories": Policy(EVERYONE, _get(lambda w: "/enterprise-categories")),
    "POST /list-memberships/import": Policy(frozenset({"admin"}), _membership_csv),
    "POST /enterprise-categories": Policy(frozenset({"admin"}), lambda w, r: Call("POST", "/enterprise-categories", json={
        "code": f"mx-{next(w.serial)}", "label": "矩阵测试名单", "issuer": "矩阵测试"})),
    "POST /enterprises/{enterprise_id}/memberships": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", "/enterprises/1/memberships", json={"category": "high_tech",
                                                    "valid_from": f"{2000 + next(w.serial)}-01-01"})),
    "POST /enterprises/{enterprise_id}/memberships/{membership_id}/end": Policy(frozenset({"admin"}), lambda w, r: (lambda m: Call(
        "POST", f"/enterprises/{m[0]}/memberships/{m[1]}/end", json={"valid_to": "2099-01-01", "reason": "矩阵测试"}))(w.membership())),
    "POST /enterprises/{enterprise_id}/memberships/{membership_id}/revoke": Policy(frozenset({"admin"}), lambda w, r: (lambda m: Call(
        "POST", f"/enterprises/{m[0]}/memberships/{m[1]}/revoke", json={"revoked_on": "2099-01-01", "reason": "矩阵测试"}))(w.membership())),
    "GET /enterprises/{enterprise_id}/attributes": Policy(EVERYONE, _get(lambda w: "/enterprises/1/attributes")),
    "POST /enterprises/{enterprise_id}/attributes": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", "/enterprises/1/attributes", json={"name": "revenue", "value": "1000000.00",
                                                   "fiscal_year": 1990 + next(w.serial)})),
    "POST /enterprise-attributes/import": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", "/enterprise-attributes/import",
        data={"file": (io.BytesIO(b"uscc,name,value\n"), "attributes.csv")})),
    "GET /programs": Policy(EVERYONE, _get(lambda w: "/programs")),
    "GET /programs/{code}": Policy(EVERYONE, _get(lambda w: "/programs/sz-sme-pool")),
    "GET /programs/{code}/budget": Policy(frozenset(STAFF), _get(lambda w: "/programs/sz-sme-pool/budget")),
    "GET /programs/{code}/admissions": Policy(EVERYONE, _get(lambda w: "/programs/sz-sme-pool/admissions")),
    "PUT /programs/{code}/admissions/{institution_id}": Policy(frozenset({"admin"}), lambda w, r: Call(
        "PUT", f"/programs/sz-sme-pool/admissions/{w.institution_id('BANK_C')}",
        json={"status": "active", "reason": "矩阵测试"})),
    "POST /programs/{code}/admissions/{institution_id}/lift": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", f"/programs/sz-sme-pool/admissions/{w.institution_id('BANK_C')}/lift", json={"reason": "矩阵测试"})),
    "GET /loans": Policy(EVERYONE, _get(lambda w: "/loans")),
    "POST /loans": Policy(frozenset(BANKS), _new_loan),
    "POST /loans/bulk": Policy(frozenset(BANKS), _bulk_loans),
    "GET /loans/bulk/{report_id}/report": Policy(frozenset(BANKS), _get(
        lambda w: f"/loans/bulk/{w.bulk_report()}/report"), owned_by_bank_a=True),
    "GET /loans/{loan_id}": Policy(EVERYONE, _get(lambda w: f"/loans/{w.loan().id}"), owned_by_bank_a=True),
    "POST /loans/{loan_id}/status": Policy(frozenset(BANKS), lambda w, r: (lambda loan: Call(
        "POST", f"/loans/{loan.id}/status", json={"status": "overdue", "as_of": "2026-02-28", "days_overdue": 95},
        headers={"If-Match": f'"{loan.version}"'}))(w.loan()), owned_by_bank_a=True),
    "GET /claims": Policy(EVERYONE, _get(lambda w: "/claims")),
    "POST /claims": Policy(frozenset(BANKS), _new_claim, owned_by_bank_a=True),
    "GET /claims/{claim_id}": Policy(EVERYONE, _get(lambda w: f"/claims/{w.claim().id}"), owned_by_bank_a=True, program_scoped=True),
    "PATCH /claims/{claim_id}": Policy(frozenset(BANKS), lambda w, r: (lambda c: Call(
        "PATCH", f"/claims/{c.id}", json={"note": "补充说明"}, headers=_with_etag(c)))(w.claim()),
        owned_by_bank_a=True, program_scoped=True),
    "POST /claims/{claim_id}/transitions": Policy(frozenset(BANKS) | {"reviewer", "approver", "payer", "admin"},
                                                  _transition, owned_by_bank_a=True, program_scoped=True),
    "GET /claims/{claim_id}/documents": Policy(EVERYONE, _get(lambda w: f"/claims/{w.claim().id}/documents"),
                                               owned_by_bank_a=True, program_scoped=True),
    "POST /claims/{claim_id}/documents": Policy(frozenset(BANKS), _document_upload, owned_by_bank_a=True, program_scoped=True),
    "GET /claims/{claim_id}/documents/{document_id}": Policy(EVERYONE, _document_download, owned_by_bank_a=True, program_scoped=True),
    "GET /claims/{claim_id}/recoveries": Policy(EVERYONE, _get(lambda w: f"/claims/{w.claim('paid').id}/recoveries"),
                                                owned_by_bank_a=True, program_scoped=True),
    "POST /claims/{claim_id}/recoveries": Policy(frozenset(BANKS), lambda w, r: Call(
        "POST", f"/claims/{w.claim('paid').id}/recoveries", json={"amount": "10000.00", "recovered_on": "2026-03-01"}),
        owned_by_bank_a=True, program_scoped=True),
    "GET /lpr": Policy(EVERYONE, _get(lambda w: "/lpr")),
    "POST /lpr": Policy(frozenset({"admin"}), lambda w, r: Call("POST", "/lpr", json={
        "effective_on": (date(2030, 1, 20) + timedelta(days=31 * next(w.serial))).isoformat(),
        "one_year": "0.0300", "five_year": "0.0350"})),
    "POST /programs/{code}/versions": Policy(frozenset({"admin"}), _program_file),
    "POST /programs/{code}/versions/{version}/retire": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", "/programs/sz-sme-pool/versions/2019.1/retire", json={"reason": "矩阵测试"})),
    "GET /programs/{code}/drafts": Policy(frozenset({"admin"}), _get(lambda w: "/programs/sz-sme-pool/drafts")),
    "POST /programs/{code}/drafts": Policy(frozenset({"admin"}), _program_draft),
    "POST /programs/{code}/drafts/copy": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", "/programs/sz-sme-pool/drafts/copy", json={"from_version": "2023.1", "version": f"2300.{next(w.serial)}",
                                                           "set": {"compensation.uplifts[0].add": "0.15"}})),
    "POST /programs/{code}/drafts/{version}/propose": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", f"/programs/sz-sme-pool/drafts/{w.draft()}/propose", json={"reason": "矩阵测试"})),
    "POST /programs/{code}/simulations": Policy(frozenset({"admin", "approver", "auditor"}), _simulation_start),
    "GET /programs/{code}/simulations/{simulation_id}": Policy(frozenset({"admin", "approver", "auditor"}), _get(
        lambda w: f"/programs/sz-sme-pool/simulations/{w.simulation()}")),
    "POST /programs/{code}/simulations/{simulation_id}/cancel": Policy(frozenset({"admin", "approver", "auditor"}), _simulation_cancel),
    "GET /programs/{code}/simulations/{simulation_id}/items": Policy(frozenset({"admin", "approver", "auditor"}), _get(
        lambda w: f"/programs/sz-sme-pool/simulations/{w.simulation()}/items")),
    "GET /programs/{code}/simulations/{simulation_id}/items/{claim_id}": Policy(frozenset({"admin", "approver", "auditor"}), _simulation_item),
    "GET /programs/{code}/simulations/{simulation_id}/xlsx": Policy(frozenset({"admin", "approver", "auditor"}), _get(
        lambda w: f"/programs/sz-sme-pool/simulations/{w.simulation()}/xlsx")),
    "GET /rule-changes": Policy(frozenset({"admin", "auditor"}), _get(lambda w: "/rule-changes?status=pending")),
    "POST /rule-changes/{change_id}/approve": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", f"/rule-changes/{w.rule_change()}/approve", json={"note": "矩阵测试"})),
    "POST /rule-changes/{change_id}/reject": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", f"/rule-changes/{w.rule_change()}/reject", json={"note": "矩阵测试"})),
    "GET /jobs/runs": Policy(frozenset({"admin"}), _get(lambda w: "/jobs/runs")),
    "POST /jobs/{name}/run": Policy(frozenset({"admin"}), lambda w, r: Call("POST", "/jobs/sla_sweep/run", json={})),
    "GET /statements": Policy(EVERYONE, _get(lambda w: "/statements")),
    "GET /statements/{statement_id}": Policy(EVERYONE, _get(lambda w: f"/statements/{w.statement_id()}"),
                                             owned_by_bank_a=True),
    "GET /statements/{statement_id}/pdf": Policy(EVERYONE, _get(lambda w: f"/statements/{w.statement_id()}/pdf"),
                                                 owned_by_bank_a=True),
    "GET /statements/{statement_id}/verify": Policy(EVERYONE, _get(
        lambda w: f"/statements/{w.statement_id()}/verify"), owned_by_bank_a=True),
    "POST /statements/verify": Policy(EVERYONE, lambda w, r: Call(
        "POST", "/statements/verify", data={"file": (io.BytesIO(PDF), "copy.pdf")})),
    "POST /statements/{statement_id}/confirm": Policy(frozenset(BANKS), lambda w, r: Call(
        "POST", f"/statements/{w.statement_id()}/confirm", json={}), owned_by_bank_a=True),
    "POST /statements/{statement_id}/dispute": Policy(frozenset(BANKS), lambda w, r: Call(
        "POST", f"/statements/{w.statement_id()}/dispute", json={"reason": "金额不符"}), owned_by_bank_a=True),
    "PUT /payments/payees/{institution_id}": Policy(frozenset({"admin"}), lambda w, r: Call(
        "PUT", f"/payments/payees/{w.institution_id('BANK_C')}", json={
            "account_name": "示例银行", "bank_name": "示例银行营业部", "account_no": "6222021001045678901"})),
    "POST /payments/batches": Policy(frozenset({"payer"}), lambda w, r: Call(
        "POST", "/payments/batches", json={"program": "sz-sme-pool", "claim_ids": [w.payable_claim()]})),
    "GET /payments/batches/{batch_id}": Policy(frozenset({"payer", "admin", "auditor"}),
                                               _get(lambda w: f"/payments/batches/{w.batch()[0]}")),
    "GET /payments/batches/{batch_id}/treasury-file": Policy(frozenset({"payer", "admin", "auditor"}), _get(
        lambda w: f"/payments/batches/{w.batch()[0]}/treasury-file?format=csv")),
    "POST /payments/batches/{batch_id}/results": Policy(frozenset({"payer"}), lambda w, r: (lambda b: Call(
        "POST", f"/payments/batches/{b[0]}/results", json={"results": [
            {"reference": b[1], "result": "failed", "reason": "账户冻结"}]}))(w.batch())),
    "POST /payments/recoveries/{recovery_id}/remittances": Policy(frozenset(BANKS), lambda w, r: Call(
        "POST", f"/payments/recoveries/{w.recovery()}/remittances", json={"amount": "0.01",
                                                                          "remitted_on": "2026-03-02"}),
        owned_by_bank_a=True),
    "POST /payments/remittances/{receipt_id}/receive": Policy(frozenset({"payer"}), lambda w, r: Call(
        "POST", f"/payments/remittances/{w.remittance()}/receive", json={"received_on": "2026-03-02",
                                                                          "voucher_no": "SK-1"})),
    "GET /payments/budget-adjustments": Policy(frozenset({"approver", "payer", "admin", "auditor"}),
                                               _get(lambda w: "/payments/budget-adjustments?program=sz-sme-pool")),
    "POST /payments/budget-adjustments": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", "/payments/budget-adjustments", json={"program": "sz-sme-pool", "year": 2026, "kind": "increase",
                                                      "amount": "100.00", "reason": "矩阵测试"})),
    "POST /payments/budget-adjustments/{adjustment_id}/decision": Policy(frozenset({"admin"}), lambda w, r: Call(
        "POST", f"/payments/budget-adjustments/{w.adjustment()}/decision", json={"approve": False})),
    "GET /applications": Policy(EVERYONE, _get(lambda w: "/applications")),
    "GET /applications/open-periods": Policy(EVERYONE, _get(lambda w: "/applications/open-periods")),
    "POST /applications": Policy(frozenset(BANKS), _new_application, owned_by_bank_a=True),
    "GET /applications/{application_id}": Policy(EVERYONE, _get(lambda w: f"/applications/{w.application()['id']}"),
                                                 owned_by_bank_a=True, program_scoped=True),
    "PATCH /applications/{application_id}": Policy(frozenset(BANKS), lambda w, r: (lambda a: Call(
        "PATCH", f"/applications/{a['id']}", json={"note": "补充说明"}, headers={"If-Match": f'"{a["version"]}"'}))(
        w.application()), owned_by_bank_a=True, program_scoped=True),
    "POST /applications/{application_id}/transitions": Policy(
        frozenset(BANKS) | {"reviewer", "approver", "payer", "admin"}, _application_transition, owned_by_bank_a=True,
        program_scoped=True),
    "GET /applications/{application_id}/documents": Policy(EVERYONE, _get(
        lambda w: f"/applications/{w.application()['id']}/documents"), owned_by_bank_a=True, program_scoped=True),
    "POST /applications/{application_id}/documents": Policy(frozenset(BANKS), lambda w, r: Call(
        "POST", f"/applications/{w.application()['id']}/documents",
        data={"kind": "interest_voucher", "file": (io.BytesIO(PDF), "voucher.pdf")}), owned_by_bank_a=True,
        program_scoped=True),
    "GET /applications/{application_id}/documents/{document_id}": Policy(EVERYONE, lambda w, r: (lambda a: Call(
        "GET", f"/applications/{a}/documents/{w.application_document(a)}"))(w.application()["id"]),
        owned_by_bank_a=True, program_scoped=True),
    "GET /events": Policy(EVERYONE, _get(lambda w: "/events")),
    "GET /webhooks/endpoints": Policy(frozenset(BANKS) | {"admin", "auditor"}, _get(lambda w: "/webhooks/endpoints")),
    "POST /webhooks/endpoints": Policy(frozenset(BANKS), lambda w, r: Call("POST", "/webhooks/endpoints", json={
        "url": "http://127.0.0.1:9/hooks", "events": ["*"]})),
    "GET /webhooks/endpoints/{endpoint_id}": Policy(frozenset(BANKS) | {"admin", "auditor"}, _get(
        lambda w: f"/webhooks/endpoints/{w.endpoint()}"), owned_by_bank_a=True),
    "PATCH /webhooks/endpoints/{endpoint_id}": Policy(frozenset(BANKS), lambda w, r: Call(
        "PATCH", f"/webhooks/endpoints/{w.endpoint()}", json={"description": "矩阵测试"}), owned_by_bank_a=True),
    "POST /webhooks/endpoints/{endpoint_id}/secret": Policy(frozenset(BANKS), lambda w, r: Call(
        "POST", f"/webhooks/endpoints/{w.endpoint()}/secret"), owned_by_bank_a=True),
    "GET /webhooks/endpoints/{endpoint_id}/deliveries": Policy(frozenset(BANKS) | {"admin", "auditor"}, _get(
        lambda w: f"/webhooks/endpoints/{w.endpoint()}/deliveries"), owned_by_bank_a=True),
    "POST /webhooks/endpoints/{endpoint_id}/deliveries/{delivery_id}/redeliver": Policy(
        frozenset(BANKS), lambda w, r: (lambda ids: Call(
            "POST", f"/webhooks/endpoints/{ids[0]}/deliveries/{ids[1]}/redeliver"))(w.delivery()),
        owned_by_bank_a=True),
}


def route_operations(app) -> list[str]:
    """Every "METHOD /openapi/path" the app routes, read from its URL map."""
    operations = set()
    for rule in app.url_map.iter_rules():
        # The console's pages take a session cookie, not these credentials: tests/api/test_console_pages.py
        # and tests/browser check who may open and post them.
        if rule.endpoint in NON_API or rule.endpoint.startswith("console."):
            continue
        path = re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operations.add(f"{method} {path}")
    return sorted(operations)


def _route_table() -> list[str]:
    from claims.app import create_app
    from claims.settings import load_settings

    app = create_app(load_settings("test").with_overrides(database_url="sqlite://"))
    operations = route_operations(app)
    app.extensions["claims"]["engine"].dispose()
    return operations


OPERATIONS = _route_table()


@pytest.fixture
def headers_by_role(app, callers, db) -> dict[str, dict[str, str]]:
    """Request headers for each of the ten kinds of caller."""
    bank_a = db.exec(select(Institution).where(Institution.code == "BANK_A")).one()
    _, revoked = issue_api_key(db, institution=bank_a, label="revoked")
    from claims.auth import revoke_api_key

    revoke_api_key(db, prefix=revoked.split("_")[1])
    db.commit()
    admin = db.exec(select(User).where(User.username == "admin")).one()
    expired = issue_token(db, admin, access_ttl=-60)
    db.commit()
    return {"bank_a": callers["BANK_A"].headers, "bank_b": callers["BANK_B"].headers,
            "reviewer": callers["reviewer1"].headers, "approver": callers["approver2"].headers,
            "payer": callers["payer1"].headers, "admin": callers["admin"].headers,
            "auditor": callers["auditor1"].headers, "anonymous": {}, "revoked_key": {"X-API-Key": revoked},
            "expired_token": {"Authorization": f"Bearer {expired}"}, "approver_1": callers["approver1"].headers,
            SCOPED: callers["reviewer_nb"].headers}


def expected(policy: Policy, role: str) -> tuple[int, str | None]:
    """The designed answer for a role: 2xx, 401 for bad credentials, 404 for bank B on bank A's rows, else 403."""
    if role in BAD_CREDENTIALS and role not in policy.allowed:
        return 401, BAD_CREDENTIALS[role]
    if role == SCOPED and "reviewer" in policy.allowed:
        # The same role as the reviewer, on another program: bank A's claims and applications do not exist for it.
        return (404, "not_found") if policy.program_scoped else (200, None)
    if role == "bank_b" and policy.owned_by_bank_a and role in policy.allowed:
        return 404, "not_found"
    if role in policy.allowed:
        return 200, None
    return 403, None


def _send(client, call: Call, headers: dict[str, str]):
    kwargs = {"headers": {**headers, **call.headers}}
    if call.json is not None:
        kwargs["json"] = call.json
    if call.data is not None:
        kwargs.update(data=call.data, content_type="multipart/form-data")
    if call.body is not None:
        kwargs.update(data=call.body, content_type=call.content_type)
    return client.open(call.path, method=call.method, **kwargs)


def test_every_endpoint_has_a_declared_policy():
    undeclared = [op for op in OPERATIONS if op not in POLICY]
    stale = [op for op in POLICY if op not in OPERATIONS]
    assert not undeclared, f"add a POLICY row (who may call it) for: {undeclared}"
    assert not stale, f"POLICY names operations the app no longer routes: {stale}"


@pytest.mark.parametrize("operation", OPERATIONS)
def test_each_caller_gets_the_designed_answer(operation, app, client, callers, db, headers_by_role, database_url):
    policy, roles = POLICY.get(operation), ROLES
    if policy is None:
        # Undeclared (the test above fails): still, no bad credential may pass a secured endpoint.
        method, path = operation.split(" ", 1)
        policy = Policy(frozenset(), lambda w, r: Call(method, re.sub(r"\{[^}]+\}", "1", path)))
        roles = tuple(BAD_CREDENTIALS)
    app.extensions["claims"]["today"] = TODAY
    world = World(app, headers_by_role, db, callers)
    failures = []
    try:
        for role in roles:
            call = policy.build(world, role)
            response = _send(client, call, headers_by_role[role])
            status, code = expected(policy, role)
            ok = (200 <= response.status_code < 300) if status == 200 else response.status_code == status
            if ok and status >= 400:
                ok = response.mimetype == "application/problem+json" and (
                    code is None or (response.get_json() or {}).get("code") == code)
            if not ok:
                failures.append((role, call.method, call.path, f"expected {status} {code or ''}".strip(),
                                 response.status_code, response.get_data(as_text=True)[:200]))
            CHECKED["sqlite" if database_url.startswith("sqlite") else "postgres"] += 1
    finally:
        world.session.close()
    assert not failures, "\n".join(map(str, failures))


def _all_pages(client, path: str, headers: dict[str, str]) -> list[dict]:
    items, page = [], 1
    while True:
        response = client.get(f"{path}{'&' if '?' in path else '?'}page={page}&page_size=100", headers=headers)
        assert response.status_code == 200, response.get_json()
        batch = response.get_json()
        items += batch
        if len(batch) < 100:
            return items
        page += 1


def test_staff_act_only_on_the_programs_they_are_granted(app, client, callers, db, headers_by_role):
    app.extensions["claims"]["today"] = TODAY
    world = World(app, headers_by_role, db, callers)
    try:
        claims = [world.claim("submitted") for _ in range(3)]
        application = world.application(APPLICATION_STEPS["submitted"])
    finally:
        world.session.close()
    scoped, reviewer = headers_by_role[SCOPED], headers_by_role["reviewer"]
    leaks = 0
    # The reviewer granted every program sees all of bank A's Shenzhen rows; the Ningbo reviewer none of them.
    assert {c["id"] for c in _all_pages(client, "/claims", reviewer)} >= {c.id for c in claims}
    leaks += len(_all_pages(client, "/claims", scoped)) + len(_all_pages(client, "/applications", scoped))
    leaks += len(_all_pages(client, "/claims?status=submitted", scoped))
    for claim in claims:
        leaks += client.get(f"/claims/{claim.id}", headers=scoped).status_code != 404
        leaks += client.get(f"/claims/{claim.id}/documents", headers=scoped).status_code != 404
        acted = client.post(f"/claims/{claim.id}/transitions", json={"action": "start_review"},
                            headers={**scoped, "If-Match": f'"{claim.version}"'})
        leaks += acted.status_code != 404
    leaks += client.get(f"/applications/{application['id']}", headers=scoped).status_code != 404
    assert leaks == 0
    CHECKED["scoping"] += 3 + 3 * len(claims) + 1
    # Granting the program lets the same reviewer act on it: the grant is the only thing in the way.
    user_id = db.exec(select(User.id).where(User.username == "reviewer_nb")).one()
    granted = client.put(f"/users/{user_id}/programs", headers=headers_by_role["admin"],
                         json={"programs": ["nb-whitelist-pool", "sz-sme-pool"]})
    assert granted.status_code == 200
    started = client.post(f"/claims/{claims[0].id}/transitions", json={"action": "start_review"},
                          headers={**scoped, "If-Match": f'"{claims[0].version}"'})
    assert started.status_code == 200 and started.get_json()["status"] == "first_review"
    assert {c["id"] for c in _all_pages(client, "/claims", scoped)} >= {c.id for c in claims}
    assert _all_pages(client, "/applications", scoped) == []  # sz-tech-interest is still not granted


FACTS = ("annual_revenue", "size", "district", "industry")


def test_banks_see_every_firm_by_name_and_uscc_but_facts_only_of_their_own_borrowers(app, client, callers, db,
                                                                                       headers_by_role):
    app.extensions["claims"]["today"] = TODAY
    world = World(app, headers_by_role, db, callers)
    try:
        own = {world.loan().enterprise_id for _ in range(3)}
    finally:
        world.session.close()
    firms = db.exec(select(Enterprise)).all()
    with_revenue = {e.id for e in firms if e.annual_revenue_fen is not None}
    assert with_revenue - own, "the seeds must hold firms with revenue that bank A does not lend to"
    leaks, checked = 0, 0
    for bank, borrowers in (("bank_a", own), ("bank_b", set())):
        listed = _all_pages(client, "/enterprises", headers_by_role[bank])
        assert len(listed) == len(firms) and all(e["uscc"] and e["name"] for e in listed)
        for firm in listed:
            checked += 1
            visible = firm["id"] in borrowers
            assert firm["facts_visible"] is visible
            leaks += (not visible) and any(firm[f] is not None for f in FACTS)
        for firm_id in sorted(with_revenue)[:10] + sorted(own):
            detail = client.get(f"/enterprises/{firm_id}", headers=headers_by_role[bank]).get_json()
            checked += 1
            if firm_id in borrowers:
                assert detail["facts_visible"] and detail["size"] is not None
            else:
                leaks += any(detail[f] is not None for f in FACTS) or bool(detail["memberships"])
        # Searching by revenue's neighbours (name, code) never brings the facts back either.
        searched = client.get(f"/enterprises?q={firms[0].uscc[:8]}", headers=headers_by_role[bank]).get_json()
        leaks += sum(1 for f in searched if f["id"] not in borrowers and f["annual_revenue"] is not None)
    staff = _all_pages(client, "/enterprises", headers_by_role["reviewer"])
    assert {f["id"] for f in staff if f["annual_revenue"] is not None} == with_revenue
    assert leaks == 0
    CHECKED["enterprise_visibility"] += checked
