"""The documents a program asks for: reading the [documents] and [correction] sections, and the checklist."""
from __future__ import annotations

from datetime import date

import pytest

from workflows.calendar import WorkCalendar
from workflows.evidence import (
    DocumentRequirement,
    DocumentRule,
    OpenRequest,
    SubjectFacts,
    build_checklist,
    correction_closes_on,
)
from workflows.rules import RuleError, load_programs, parse_rule

FOUR = DocumentRule((DocumentRequirement(("claim_form",)), DocumentRequirement(("collection_statement",)),
                     DocumentRequirement(("loan_contract",)), DocumentRequirement(("court_document",), lawsuit=True)))


def test_with_three_of_four_documents_the_checklist_names_the_fourth():
    files = [(1, "claim_form"), (2, "collection_statement"), (3, "loan_contract")]
    checklist = build_checklist(FOUR, SubjectFacts(lawsuit=True), files)
    assert not checklist.complete
    assert [(i.kinds, i.required, i.present, i.missing) for i in checklist.missing] == [(("court_document",), 1, 0, 1)]
    assert checklist.describe_missing() == ["法院文书 (court_document): 缺 1 份"]
    assert build_checklist(FOUR, SubjectFacts(lawsuit=True), files + [(4, "court_document")]).complete


def test_court_papers_are_required_only_when_a_lawsuit_is_declared():
    files = [(1, "claim_form"), (2, "collection_statement"), (3, "loan_contract")]
    checklist = build_checklist(FOUR, SubjectFacts(lawsuit=False), files)
    assert checklist.complete and len(checklist.items) == 3


def test_a_reviewers_request_counts_only_documents_attached_after_it():
    files = [(1, "claim_form"), (2, "collection_statement"), (3, "loan_contract"), (4, "court_document")]
    asked = [OpenRequest("court_document", 1, after_document_id=4, note="判决书需加盖法院印章")]
    checklist = build_checklist(FOUR, SubjectFacts(lawsuit=True), files, asked)
    assert [(i.kinds, i.source, i.present, i.missing, i.note) for i in checklist.missing] == [
        (("court_document",), "return", 0, 1, "判决书需加盖法院印章")]
    assert build_checklist(FOUR, SubjectFacts(lawsuit=True), files + [(5, "court_document")], asked).complete


def test_alternatives_and_counts():
    rule = DocumentRule((DocumentRequirement(("court_document", "write_off"), count=2),))
    assert build_checklist(rule, SubjectFacts(), [(1, "write_off")]).missing[0].missing == 1
    assert build_checklist(rule, SubjectFacts(), [(1, "write_off"), (2, "court_document")]).complete


def test_fee_vouchers_follow_the_fee_kind():
    rule = DocumentRule((DocumentRequirement(("fee_voucher",), fee_kind="guarantee_fee", label="担保费支付凭证"),))
    assert build_checklist(rule, SubjectFacts(fee_kind="insurance_premium"), []).complete
    assert build_checklist(rule, SubjectFacts(fee_kind="guarantee_fee"), []).describe_missing() == [
        "担保费支付凭证 (fee_voucher): 缺 1 份"]


def test_the_correction_window_closes_on_the_first_working_day_past_it():
    calendar = WorkCalendar()
    # Returned Friday 2026-10-09; Saturday 10-10 is a working day (调休 after National Day), so the 20th
    # working day after is Thursday 11-05 and the claim closes on Friday 11-06.
    assert correction_closes_on(date(2026, 10, 9), 20, calendar) == date(2026, 11, 6)
    assert calendar.working_days_between(date(2026, 10, 9), date(2026, 11, 6)) == 21


def _document(**sections) -> dict:
    return {"program": {"code": "x-pool", "version": "2024.1", "kind": "risk_pool", "name": "测试资金池",
                        "effective_from": date(2024, 1, 1), "source": "test", "governing_date": "disbursement"},
            "claim": {"trigger_days_overdue": 90}, "compensation": {"base_ratio": "0.3", "ceiling": "0.5"},
            "review": {"stages": [{"name": "first_review", "role": "reviewer", "sla_working_days": 5}]}, **sections}


def test_bad_documents_sections_are_refused_with_their_keys():
    with pytest.raises(RuleError) as error:
        parse_rule(_document(documents={"required": [{"kind": "selfie"}, {"kind": "claim_form", "kinds": ["other"]},
                                                     {"kind": "fee_voucher", "when": {"fee_kind": "guarantee_fee"}},
                                                     {"kind": "claim_form", "count": 0, "colour": "red"}]},
                             correction={"working_days": 5, "remind_working_days_before": 8}))
    text = "\n".join(error.value.messages)
    assert "documents.required[0].kind: must be one of" in text
    assert "documents.required[1].kind: give exactly one of kind" in text
    assert "documents.required[2].when.fee_kind: applies only to fee_subsidy programs" in text
    assert "documents.required[3].count" in text and "documents.required[3].colour: unknown key" in text
    assert "correction.remind_working_days_before: is longer than the correction window" in text


def test_the_shipped_programs_list_their_documents():
    registry = load_programs("config/programs")
    pool = registry.rule_for("sz-sme-pool", date(2024, 6, 1))
    assert [r.kinds[0] for r in pool.documents.required] == [
        "claim_form", "collection_statement", "no_negligence", "loan_contract", "disbursement_record",
        "repayment_record", "court_document"]
    assert pool.documents.required[-1].lawsuit is True
    assert (pool.correction.working_days, pool.correction.remind_working_days_before) == (20, 2)
    interest = registry.rule_for("sz-tech-interest", date(2024, 6, 1))
    assert [r.kinds[0] for r in interest.documents.required] == [
        "application_form", "loan_contract", "disbursement_record", "interest_voucher"]
    for code in registry.programs():
        for rule in registry.versions(code):
            assert rule.documents.required, f"{code} {rule.version} lists no documents"
