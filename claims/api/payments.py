"""Payment runs and settlement: payee accounts, treasury batches and their results, recovery remittances,
budget adjustments (maker-checker)."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from claims.api.spec import Blueprint, allow
from marshmallow import fields, validate

from claims.api import context
from claims.api.fields import Money, StrictSchema
from claims.services import payments, settlement

blp = Blueprint("payments", __name__, url_prefix="/payments",
                description="Payee accounts, treasury payment batches (XLSX/CSV), recovery receipts, budget changes")
VOUCHER = validate.Regexp(r"^[0-9A-Za-z\-_/]{1,64}$", error="1 to 64 letters, digits, - _ /")


class PayeeAccountIn(StrictSchema):
    # The patterns are the service's rules (payments.set_payee_account), stated so a client can check first.
    account_name = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={"pattern": r"\S"})
    bank_name = fields.String(required=True, validate=validate.Length(min=1, max=100), metadata={"pattern": r"\S"})
    account_no = fields.String(required=True, validate=validate.Length(min=1, max=40), metadata={
        "pattern": "^ *([0-9] *){8,32}$", "description": "8 to 32 digits; spaces between groups are dropped",
        "example": "6222021001045678901"})


class PayeeAccountOut(StrictSchema):
    institution_id = fields.Integer()
    account_name = fields.String()
    bank_name = fields.String()
    account_no = fields.Function(lambda row: payments.mask_account(row.account_no),
                                 metadata={"description": "masked: the full number is only on the treasury file"})


class BatchIn(StrictSchema):
    program = fields.String(required=True, validate=validate.Length(min=1, max=32))
    claim_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=2**63 - 1)), required=True,
                            validate=validate.Length(min=1, max=1000))
    purpose = fields.String(load_default="", validate=validate.Length(max=200))


class LineOut(StrictSchema):
    reference = fields.String()
    subject_type = fields.String()
    subject_id = fields.Integer()
    institution_id = fields.Integer()
    amount = Money(attribute="amount_fen")
    account_no = fields.Function(lambda row: payments.mask_account(row.account_no))
    status = fields.String()
    voucher_no = fields.String()
    paid_on = fields.Date(allow_none=True)
    failure_reason = fields.String()


class BatchOut(StrictSchema):
    id = fields.Integer()
    program = fields.String(attribute="program_code")
    status = fields.String()
    purpose = fields.String()
    total = Money(attribute="total_fen")
    lines = fields.List(fields.Nested(LineOut))


class ExportQuery(StrictSchema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))


class ResultIn(StrictSchema):
    reference = fields.String(required=True, validate=validate.Length(min=1, max=40))
    result = fields.String(required=True, validate=validate.OneOf(("paid", "failed")))
    voucher_no = fields.String(load_default="", validate=validate.Length(max=64))
    paid_on = fields.Date(load_default=None)
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class ResultsIn(StrictSchema):
    # Sent in parts of up to 200 lines (partial results are fine), so a request stays well under the JSON cap.
    results = fields.List(fields.Nested(ResultIn), required=True, validate=validate.Length(min=1, max=200))


class ResultCounts(StrictSchema):
    paid = fields.Integer()
    failed = fields.Integer()
    unchanged = fields.Integer()


class RemittanceIn(StrictSchema):
    amount_fen = Money(required=True, data_key="amount")
    remitted_on = fields.Date(required=True)
    bank_reference = fields.String(load_default="", validate=validate.Length(max=64))


class ReceiveIn(StrictSchema):
    received_on = fields.Date(required=True)
    voucher_no = fields.String(required=True, validate=VOUCHER)


class ReceiptOut(StrictSchema):
    id = fields.Integer()
    recovery_id = fields.Integer()
    amount = Money(attribute="amount_fen")
    remitted_on = fields.Date()
    bank_reference = fields.String()
    status = fields.String()
    voucher_no = fields.String()
    received_on = fields.Date(allow_none=True)


class AdjustmentIn(StrictSchema):
    program = fields.String(required=True, validate=validate.Length(min=1, max=32))
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    kind = fields.String(required=True, validate=validate.OneOf(("increase", "decrease")),
                         metadata={"description": "increase (追加) or decrease (调减)"})
    # Not zero (settlement.propose_adjustment refuses it): the contract's pattern leaves zero out.
    amount_fen = Money(required=True, data_key="amount", metadata={
        "pattern": r"^([1-9][0-9]{0,14}(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9]))$"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class DecisionIn(StrictSchema):
    approve = fields.Boolean(required=True)
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class AdjustmentOut(StrictSchema):
    id = fields.Integer()
    program = fields.String(attribute="program_code")
    year = fields.Integer()
    amount = Money(attribute="amount_fen", metadata={"description": "signed: negative for a decrease",
                                                     "pattern": r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"})
    reason = fields.String()
    status = fields.String()
    proposed_by = fields.String()
    decided_by = fields.String()
    decision_reason = fields.String()


class AdjustmentQuery(StrictSchema):
    program = fields.String(required=True)


def _batch(batch_id: int) -> dict:
    batch, lines = payments.batch_lines(context.session(), principal=context.principal(), batch_id=batch_id)
    return {**{k: getattr(batch, k) for k in ("id", "program_code", "status", "purpose", "total_fen")},
            "lines": lines}


@blp.route("/payees/<int:institution_id>")
class Payee(MethodView):
    @allow("admin")
    @blp.arguments(PayeeAccountIn)
    @blp.response(200, PayeeAccountOut)
    def put(self, body, institution_id):
        """Record an institution's payee account (admin): account name, bank, account number (digits)."""
        return payments.set_payee_account(context.session(), principal=context.principal(),
                                          institution_id=institution_id, **body)


@blp.route("/batches")
class Batches(MethodView):
    @allow("payer")
    @blp.arguments(BatchIn)
    @blp.response(201, BatchOut)
    def post(self, body):
        """Build a batch of approved claims of one program (payer)."""
        batch = payments.build_batch(context.session(), principal=context.principal(), program_code=body["program"],
                                     claim_ids=body["claim_ids"], purpose=body["purpose"])
        return _batch(batch.id)


@blp.route("/batches/<int:batch_id>")
class BatchById(MethodView):
    @allow("payer", "admin", "auditor")
    @blp.response(200, BatchOut)
    def get(self, batch_id):
        """A batch and its lines with their results."""
        return _batch(batch_id)


@blp.route("/batches/<int:batch_id>/treasury-file")
class BatchExport(MethodView):
    @allow("payer", "admin", "auditor")
    @blp.arguments(ExportQuery, location="query")
    @blp.response(200, {"format": "binary", "type": "string"})
    def get(self, query, batch_id):
        """The batch's pending lines in the treasury's import layout, as XLSX (default) or CSV."""
        batch, lines = payments.batch_lines(context.session(), principal=context.principal(), batch_id=batch_id)
        if query["format"] == "csv":
            data, mimetype = payments.export_csv(batch, lines), "text/csv"
        else:
            data, mimetype = payments.export_xlsx(batch, lines), \
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(data, mimetype=mimetype, headers={
            "Content-Disposition": f"attachment; filename=PB{batch.id:06d}.{query['format']}"})


@blp.route("/batches/<int:batch_id>/results")
class BatchResults(MethodView):
    @allow("payer")
    @blp.arguments(ResultsIn)
    @blp.response(200, ResultCounts)
    def post(self, body, batch_id):
        """Record the treasury's result per line: paid (voucher, date) pays the item; failed (reason) leaves it approved."""
        results = [payments.LineResult(r["reference"], r["result"] == "paid", r["voucher_no"], r["paid_on"],
                                       r["reason"]) for r in body["results"]]
        return payments.record_results(context.session(), principal=context.principal(), registry=context.programs(),
                                       batch_id=batch_id, results=results)


@blp.route("/recoveries/<int:recovery_id>/remittances")
class Remittances(MethodView):
    @allow("institution")
    @blp.arguments(RemittanceIn)
    @blp.response(201, ReceiptOut)
    def post(self, body, recovery_id):
        """The institution reports remitting a recovery share owed back (amount, date, its bank reference)."""
        return settlement.report_remittance(context.session(), principal=context.principal(),
                                            recovery_id=recovery_id, **body)


@blp.route("/remittances/<int:receipt_id>/receive")
class ReceiveRemittance(MethodView):
    @allow("payer")
    @blp.arguments(ReceiveIn)
    @blp.response(200, ReceiptOut)
    def post(self, body, receipt_id):
        """The bureau records a remittance received (date, voucher): the receivable clears in the ledger (payer)."""
        return settlement.receive_remittance(context.session(), principal=context.principal(), receipt_id=receipt_id,
                                             **body)


@blp.route("/budget-adjustments")
class Adjustments(MethodView):
    @allow("approver", "payer", "admin", "auditor")
    @blp.arguments(AdjustmentQuery, location="query")
    @blp.response(200, AdjustmentOut(many=True))
    def get(self, query):
        """A program's budget adjustments, newest first."""
        return settlement.adjustments(context.session(), principal=context.principal(), program_code=query["program"])

    @allow("admin")
    @blp.arguments(AdjustmentIn)
    @blp.response(201, AdjustmentOut)
    def post(self, body):
        """Propose raising or cutting a program-year budget (admin); a second admin decides."""
        return settlement.propose_adjustment(context.session(), principal=context.principal(),
                                             program_code=body["program"], year=body["year"],
                                             amount_fen=body["amount_fen"] * (1 if body["kind"] == "increase" else -1),
                                             reason=body["reason"])


@blp.route("/budget-adjustments/<int:adjustment_id>/decision")
class AdjustmentDecision(MethodView):
    @allow("admin")
    @blp.arguments(DecisionIn)
    @blp.response(200, AdjustmentOut)
    def post(self, body, adjustment_id):
        """Approve (the budget changes; a cut never below reserved + paid) or reject, by another admin."""
        return settlement.decide_adjustment(context.session(), principal=context.principal(),
                                            adjustment_id=adjustment_id, **body)
