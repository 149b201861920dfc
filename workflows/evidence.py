"""Evidence a claim or application must carry, and how long a returned one may wait for its corrections.

Two optional sections of a program file, read here so the rule model gains them as one piece:

    [[documents.required]]          # one per document the program asks for
    kind = "court_document"         # or kinds = ["court_document", "write_off"]: any of them counts
    count = 1                       # how many files of those kinds (default 1)
    when = { lawsuit = true }       # only when the claim declares a lawsuit (or fee_kind = "guarantee_fee")
    label = "法院受理或判决文书"

    [correction]
    working_days = 20               # a returned item not resubmitted within this is closed as withdrawn
    remind_working_days_before = 2  # the institution is told this many working days before the closing

The checklist compares what is required (by the program, and by a reviewer's return) with what is on file.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from workflows.calendar import WorkCalendar
from workflows.rule_reader import Reader

DOCUMENT_KINDS = {
    "claim_form": "代偿申请表", "collection_statement": "催收情况说明", "no_negligence": "尽职免责声明",
    "loan_contract": "借款合同", "disbursement_record": "放款凭证", "repayment_record": "还款记录",
    "court_document": "法院文书", "write_off": "核销材料", "financial_statement": "财务报表",
    "application_form": "申请表", "interest_voucher": "利息支付凭证", "fee_voucher": "担保费或保费支付凭证",
    "guarantee_contract": "担保或保证保险合同", "loan_list": "贷款发放明细", "other": "其他",
}
CLAIM_PROGRAM_KINDS = ("risk_pool", "guarantee_fund")
_FEE_KINDS = ("guarantee_fee", "insurance_premium")


@dataclass(frozen=True)
class DocumentRequirement:
    """Documents of one of `kinds`, at least `count` of them, required when the condition holds."""

    kinds: tuple[str, ...]
    count: int = 1
    lawsuit: bool | None = None
    fee_kind: str | None = None
    label: str | None = None

    def applies(self, facts: "SubjectFacts") -> bool:
        """Whether this requirement applies to the claim or application described by the facts."""
        if self.lawsuit is not None and self.lawsuit != facts.lawsuit:
            return False
        return self.fee_kind is None or self.fee_kind == facts.fee_kind


@dataclass(frozen=True)
class DocumentRule:
    """The documents a program's claims (or applications) need before they are submitted."""

    required: tuple[DocumentRequirement, ...] = ()


@dataclass(frozen=True)
class CorrectionRule:
    """The correction window of a returned item and when the institution is reminded of its end."""

    working_days: int | None = None
    remind_working_days_before: int | None = None


@dataclass(frozen=True)
class SubjectFacts:
    """What a requirement's condition looks at: a declared lawsuit (claims), the fee kind (fee subsidies)."""

    lawsuit: bool = False
    fee_kind: str = ""


@dataclass(frozen=True)
class OpenRequest:
    """A reviewer's request for new documents: only files attached after `after_document_id` count."""

    kind: str
    count: int
    after_document_id: int
    note: str = ""


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the checklist: what is asked, how many are on file, how many are missing."""

    kinds: tuple[str, ...]
    label: str
    required: int
    present: int
    source: str  # "program" or "return"
    note: str = ""

    @property
    def missing(self) -> int:
        """How many more files this line needs."""
        return max(self.required - self.present, 0)

    def to_dict(self) -> dict:
        """The line as JSON data."""
        return {"kinds": list(self.kinds), "label": self.label, "required": self.required, "present": self.present,
                "missing": self.missing, "source": self.source, "note": self.note}


@dataclass(frozen=True)
class Checklist:
    """Every required line with what is on file; complete when nothing is missing."""

    items: tuple[ChecklistItem, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        """Whether every line has all its files."""
        return all(item.missing == 0 for item in self.items)

    @property
    def missing(self) -> tuple[ChecklistItem, ...]:
        """The lines still missing files."""
        return tuple(item for item in self.items if item.missing)

    def describe_missing(self) -> list[str]:
        """Each missing line in words, Chinese label first, e.g. "法院文书 (court_document): 缺 1 份"."""
        return [f"{item.label} ({' / '.join(item.kinds)}): 缺 {item.missing} 份" for item in self.missing]


def label_of(kinds: Sequence[str], label: str | None = None) -> str:
    """The Chinese label of a requirement: its own, else the kinds' labels joined by 或."""
    return label or "或".join(DOCUMENT_KINDS.get(k, k) for k in kinds)


def build_checklist(rule: DocumentRule, facts: SubjectFacts, documents: Iterable[tuple[int, str]],
                    requests: Iterable[OpenRequest] = ()) -> Checklist:
    """The checklist of a claim or application from its program's rule, its files (id, kind) and open requests.

    A file counts toward every program line of its kind; a reviewer's request counts only files attached
    after the request, so "a new court paper" is not satisfied by the one already on file.
    """
    files = list(documents)
    items = []
    for requirement in rule.required:
        if requirement.applies(facts):
            present = sum(1 for _, kind in files if kind in requirement.kinds)
            items.append(ChecklistItem(requirement.kinds, label_of(requirement.kinds, requirement.label),
                                       requirement.count, present, "program"))
    for request in requests:
        present = sum(1 for doc_id, kind in files if kind == request.kind and doc_id > request.after_document_id)
        items.append(ChecklistItem((request.kind,), label_of((request.kind,)), request.count, present, "return",
                                   request.note))
    return Checklist(tuple(items))


def correction_closes_on(returned_on: date, working_days: int, calendar: WorkCalendar) -> date:
    """The working day a returned item is closed if still uncorrected: the first one past the window."""
    return calendar.add_working_days(returned_on, working_days + 1)


def read_documents(reader: Reader | None, *, kind: str | None) -> DocumentRule:
    """The [documents] section: [[documents.required]] lines, each checked against the program's kind."""
    if reader is None:
        return DocumentRule()
    required = []
    for item in reader.tables("required", required=True):
        if item.has("kind") == item.has("kinds"):
            item.error("kind", "give exactly one of kind (one document kind) or kinds (any of several)")
        one = item.choice("kind", DOCUMENT_KINDS)
        several = item.strings("kinds", choices=DOCUMENT_KINDS)
        count = item.integer("count", default=1, minimum=1) or 1
        label = item.string("label")
        when = item.table("when")
        lawsuit = fee_kind = None
        if when is not None:
            lawsuit = when.boolean("lawsuit")
            fee_kind = when.choice("fee_kind", _FEE_KINDS)
            when.finish()
            if lawsuit is not None and kind not in CLAIM_PROGRAM_KINDS:
                when.error("lawsuit", f"applies to claims; a {kind!r} program has applications")
            if fee_kind is not None and kind != "fee_subsidy":
                when.error("fee_kind", "applies only to fee_subsidy programs")
        item.finish()
        kinds = (one,) if one else tuple(several or ())
        if kinds:
            required.append(DocumentRequirement(kinds, count, lawsuit, fee_kind, label))
    reader.finish()
    return DocumentRule(tuple(required))


def read_correction(reader: Reader | None) -> CorrectionRule | None:
    """The [correction] section: the correction window and the reminder before its end, in working days."""
    if reader is None:
        return None
    rule = CorrectionRule(working_days=reader.integer("working_days", minimum=1),
                          remind_working_days_before=reader.integer("remind_working_days_before", minimum=1))
    if (rule.working_days is not None and rule.remind_working_days_before is not None
            and rule.remind_working_days_before > rule.working_days):
        reader.error("remind_working_days_before", "is longer than the correction window")
    reader.finish()
    return rule
