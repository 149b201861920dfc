"""Lifting a circuit breaker: the institution is reinstated and its deferred claims resume review."""
from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from claims.audit import record_event
from claims.auth import Principal
from claims.db import begin_write
from claims.errors import NotFound, Unprocessable
from claims.models import Admission, Claim
from claims.models.base import utcnow
from claims.services import events, review
from claims.services.claims import CLAIM_REVIEW
from claims.services.programs import loaded_rule


def lift_breaker(session: Session, *, principal: Principal, registry, institution_id: int, program_code: str,
                 reason: str, today: date) -> Admission:
    """Reinstate an institution held by a breaker (admin) and resume its deferred claims."""
    principal.require("admin")
    begin_write(session)
    admission = session.exec(select(Admission).where(Admission.institution_id == institution_id,
                                                     Admission.program_code == program_code)).first()
    if admission is None:
        raise NotFound(f"Institution {institution_id} is not admitted to {program_code}.")
    if not reason.strip():
        raise Unprocessable("Lifting a breaker needs a reason.", code="reason_required", errors={"reason": ["required"]})
    before = admission.status
    admission.status, admission.reason, admission.updated_at = "active", reason, utcnow()
    session.add(admission)
    record_event(session, actor=principal.actor, entity="admission", entity_id=admission.id, action="breaker_lifted",
                 data={"from": before, "reason": reason, "institution_id": institution_id, "program": program_code})
    events.emit(session, type="breaker.lifted", institution_id=institution_id, subject_type="admission",
                subject_id=admission.id, data={"program": program_code, "from": before, "status": "active",
                                               "reason": reason})
    deferred = session.exec(select(Claim).where(Claim.institution_id == institution_id,
                                                Claim.program_code == program_code, Claim.status == "deferred")).all()
    for claim in deferred:
        rule = loaded_rule(session, registry, rule_version_id=claim.rule_version_id)
        flow = review.flow_of(CLAIM_REVIEW, rule)
        resume = flow.plan("resume", claim.status, principal.roles, {"breaker_holds": False})
        review.apply_transition(session, CLAIM_REVIEW, registry=registry, principal=principal, flow=flow,
                                transition=resume, item=claim, rule=rule, today=today, reason=reason, amount_fen=None)
    session.commit()
    return admission
