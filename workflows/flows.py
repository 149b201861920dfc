"""The concrete flows: loss or guarantee claims, and subsidy or reward applications, built per program.

A program lists its review stages in order (`[[review.stages]]`): one to three review stages —
first_review, second_review, third_review — and then payment. Each review stage is a state of the claim;
the last review stage approves, the ones before it pass the claim on.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from workflows.machine import Flow, Refusal, Transition

REVIEW_STAGE_NAMES = ("first_review", "second_review", "third_review")
PAYMENT_STAGE = "payment"
STAGE_NAMES = (*REVIEW_STAGE_NAMES, PAYMENT_STAGE)
CLAIM_STATES = frozenset({"draft", "submitted", *REVIEW_STAGE_NAMES, "returned", "approved", "paid",
                          "rejected", "withdrawn", "deferred"})
CLAIM_FINAL = frozenset({"paid", "rejected", "withdrawn"})
# Default roles per stage, and the stages of a program that lists none.
DEFAULT_STAGE_ROLES = {"first_review": "reviewer", "second_review": "approver", "third_review": "approver",
                       "payment": "payer"}
DEFAULT_STAGES = ("first_review", "second_review", "payment")
# Which stage's SLA clock runs in each state.
STAGE_OF_STATE = {"submitted": "first_review", "first_review": "first_review", "second_review": "second_review",
                  "third_review": "third_review", "approved": "payment"}
# What an institution may do to its own claim or application; everything else is the bureau's.
APPLICANT_ACTIONS = ("submit", "resubmit", "withdraw")


def reason_required(context: Mapping[str, object]) -> list[Refusal]:
    """Returning, rejecting or reducing needs a written reason."""
    if not str(context.get("reason") or "").strip():
        return [Refusal("reason_required", "a reason is required for this action", "reason")]
    return []


def four_eyes(context: Mapping[str, object]) -> list[Refusal]:
    """A later review stage must be by a different person from the one who passed first review."""
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


def separation_refusals(stage: str, actor_user_id: int | None, stage_actors: Mapping[str, Iterable[int]],
                        distinct_stages: Iterable[str]) -> list[Refusal]:
    """Refuse a person taking a second of the stages that must each be a different person (separation of duties)."""
    distinct = set(distinct_stages)
    if actor_user_id is None or stage not in distinct:
        return []
    taken = sorted(other for other, actors in stage_actors.items()
                   if other != stage and other in distinct and actor_user_id in set(actors))
    if taken:
        return [Refusal("separation_of_duties", f"the same person may not take {stage} after {', '.join(taken)} "
                                                f"on one item (separation of duties)")]
    return []


def _stage_roles(stages: Sequence) -> tuple[list[str], dict[str, frozenset[str]]]:
    declared = [s.name for s in stages] or list(DEFAULT_STAGES)
    roles = {name: frozenset({DEFAULT_STAGE_ROLES[name]}) for name in STAGE_NAMES}
    roles.update({s.name: frozenset({s.role}) for s in stages})
    review = [name for name in declared if name in REVIEW_STAGE_NAMES] or ["first_review"]
    return review, roles


def review_flow(name: str, stages: Sequence = (), *, applicant: str = "institution") -> Flow:
    """The review flow for claims and applications: submit, the program's review stages, payment.

    draft → submitted → first_review ⇄ returned → [second_review → [third_review]] → approved → paid,
    with rejected and withdrawn as ends and deferred while a circuit breaker holds the institution.
    """
    review, roles = _stage_roles(stages)
    first, last, pay = review[0], review[-1], roles[PAYMENT_STAGE]
    own, admin = frozenset({applicant}), frozenset({"admin"})
    later = (four_eyes,) if len(review) > 1 else ()
    transitions = [
        Transition("submit", frozenset({"draft"}), "submitted", own, (), ("compute",), "submission", "提交"),
        Transition("defer", frozenset({"submitted"}), "deferred", admin, (), (), "submission", "熔断暂缓"),
        # A breaker that trips while a claim is in review holds it at the next decision, not only at submission.
        Transition("hold", frozenset(review), "deferred", admin, (), (), "submission", "熔断暂缓审批"),
        Transition("resume", frozenset({"deferred"}), "submitted", admin, (not_deferred,), (), "submission", "恢复受理"),
        Transition("start_review", frozenset({"submitted"}), first, roles[first], (not_deferred,), ("compute",),
                   first, "开始初审"),
        Transition("return", frozenset({"submitted", first}), "returned", roles[first], (reason_required,), (),
                   first, "退回补正"),
        Transition("resubmit", frozenset({"returned"}), first, own, (), ("compute",), first, "补正后重新提交"),
        Transition("reject", frozenset({"submitted", first}), "rejected", roles[first], (reason_required,), (),
                   first, "初审不予补偿"),
    ]
    for index, stage in enumerate(review[:-1]):
        following = review[index + 1]
        effects = ("compute", "mark_first_reviewer") if index == 0 else ("compute",)
        transitions.append(Transition("pass", frozenset({stage}), following, roles[stage], later if index else (),
                                      effects, stage, "初审通过" if index == 0 else "审核通过"))
    for stage in review[1:]:
        transitions.append(Transition("reject", frozenset({stage}), "rejected", roles[stage],
                                      (*later, reason_required), (), stage, "复审不予补偿"))
    transitions += [
        Transition("approve", frozenset({last}), "approved", roles[last], (*later, amount_within_computed),
                   ("compute", "reserve_budget"), last, "复审批准" if len(review) > 1 else "审核批准"),
        Transition("revoke", frozenset({"approved"}), "rejected", roles[last], (*later, reason_required),
                   ("release_budget",), last, "撤销批准"),
        Transition("pay", frozenset({"approved"}), "paid", pay, (), ("post_payment",), PAYMENT_STAGE, "拨付"),
        Transition("withdraw", frozenset({"draft", "submitted", "returned", "deferred"}), "withdrawn", own, (), (),
                   "submission", "撤回"),
        Transition("close_uncorrected", frozenset({"returned"}), "withdrawn", admin, (reason_required,), (),
                   first, "逾期未补正视为撤回"),
    ]
    sla = {stage.name: stage.sla_working_days for stage in stages}
    return Flow(name=name, initial="draft", states=CLAIM_STATES, final=CLAIM_FINAL, transitions=tuple(transitions),
                sla_working_days=sla)


def stage_of_decision(flow: Flow, action: str, from_state: str) -> str | None:
    """The stage a recorded decision belongs to (None for the applicant's own actions)."""
    for transition in flow.transitions:
        if transition.action == action and from_state in transition.sources:
            return transition.stage if transition.stage in STAGE_NAMES else None
    return None
