"""The concrete flows: loss or guarantee claims, and subsidy or reward applications, built per program."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from workflows.machine import Flow, Refusal, Transition

CLAIM_STATES = frozenset({"draft", "submitted", "first_review", "returned", "second_review", "approved", "paid",
                          "rejected", "withdrawn", "deferred"})
CLAIM_FINAL = frozenset({"paid", "rejected", "withdrawn"})
# Default roles per stage; a program's [[review.stages]] may name others.
DEFAULT_STAGE_ROLES = {"first_review": "reviewer", "second_review": "approver", "payment": "payer"}


def reason_required(context: Mapping[str, object]) -> list[Refusal]:
    """Returning, rejecting or reducing needs a written reason."""
    if not str(context.get("reason") or "").strip():
        return [Refusal("reason_required", "a reason is required for this action", "reason")]
    return []


def four_eyes(context: Mapping[str, object]) -> list[Refusal]:
    """Second review must be by a different person from first review."""
    first, actor = context.get("first_reviewer_id"), context.get("actor_user_id")
    if first is not None and first == actor:
        return [Refusal("four_eyes", "the second reviewer must not be the person who did the first review")]
    return []


def amount_within_computed(context: Mapping[str, object]) -> list[Refusal]:
    """An approved amount may reduce the computed amount (with a reason) but never exceed it."""
    amount, computed = context.get("amount_fen"), context.get("computed_fen")
    if amount is None:
        return []
    if amount > computed:
        return [Refusal("amount_above_computed", "the approved amount may not exceed the computed amount", "amount")]
    if amount < computed and not str(context.get("reason") or "").strip():
        return [Refusal("reason_required", "a reduced amount needs a reason", "reason")]
    return []


def not_deferred(context: Mapping[str, object]) -> list[Refusal]:
    """A claim cannot move on while a circuit breaker holds its institution."""
    if context.get("breaker_holds"):
        return [Refusal("breaker_holds", "a circuit breaker holds this institution's claims")]
    return []


def _roles(stages: Sequence, name: str) -> frozenset[str]:
    for stage in stages:
        if stage.name == name:
            return frozenset({stage.role})
    return frozenset({DEFAULT_STAGE_ROLES[name]})


def review_flow(name: str, stages: Sequence = (), *, applicant: str = "institution") -> Flow:
    """The review flow for claims and applications: submit, two-stage review with four eyes, payment.

    draft → submitted → first_review ⇄ returned → second_review → approved → paid, with rejected and
    withdrawn as ends and deferred while a circuit breaker holds the institution.
    """
    first, second, pay = _roles(stages, "first_review"), _roles(stages, "second_review"), _roles(stages, "payment")
    own = frozenset({applicant})
    admin = frozenset({"admin"})
    transitions = (
        Transition("submit", frozenset({"draft"}), "submitted", own, (), ("compute",), "submission", "提交"),
        Transition("defer", frozenset({"submitted"}), "deferred", admin | own, (), (), "submission", "熔断暂缓"),
        Transition("resume", frozenset({"deferred"}), "submitted", admin, (not_deferred,), (), "submission", "恢复受理"),
        Transition("start_review", frozenset({"submitted"}), "first_review", first, (not_deferred,), ("compute",),
                   "first_review", "开始初审"),
        Transition("return", frozenset({"submitted", "first_review"}), "returned", first, (reason_required,), (),
                   "first_review", "退回补正"),
        Transition("resubmit", frozenset({"returned"}), "first_review", own, (), ("compute",), "first_review", "补正后重新提交"),
        Transition("pass", frozenset({"first_review"}), "second_review", first, (), ("compute", "mark_first_reviewer"),
                   "first_review", "初审通过"),
        Transition("reject", frozenset({"submitted", "first_review"}), "rejected", first, (reason_required,), (),
                   "first_review", "初审不予补偿"),
        Transition("reject", frozenset({"second_review"}), "rejected", second, (four_eyes, reason_required), (),
                   "second_review", "复审不予补偿"),
        Transition("approve", frozenset({"second_review"}), "approved", second, (four_eyes, amount_within_computed),
                   ("compute", "reserve_budget"), "second_review", "复审批准"),
        Transition("revoke", frozenset({"approved"}), "rejected", second, (four_eyes, reason_required),
                   ("release_budget",), "second_review", "撤销批准"),
        Transition("pay", frozenset({"approved"}), "paid", pay, (), ("post_payment",), "payment", "拨付"),
        Transition("withdraw", frozenset({"draft", "submitted", "returned", "deferred"}), "withdrawn", own, (), (),
                   "submission", "撤回"),
        Transition("close_uncorrected", frozenset({"returned"}), "withdrawn", admin, (reason_required,), (),
                   "first_review", "逾期未补正视为撤回"),
    )
    sla = {stage.name: stage.sla_working_days for stage in stages}
    return Flow(name=name, initial="draft", states=CLAIM_STATES, final=CLAIM_FINAL, transitions=transitions,
                sla_working_days=sla)


# Which stage's SLA clock runs in each state.
STAGE_OF_STATE = {"submitted": "first_review", "first_review": "first_review", "second_review": "second_review",
                  "approved": "payment"}
