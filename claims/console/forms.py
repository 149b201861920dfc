"""The console's forms (flask-wtf): every one carries a CSRF token; amounts are typed in yuan."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, HiddenField, IntegerField, PasswordField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError


class LoginForm(FlaskForm):
    """Staff log-in."""

    username = StringField("用户名", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired(), Length(max=200)])


class EmptyForm(FlaskForm):
    """A form that posts nothing but its CSRF token (log out, verify, run)."""


def _yuan_to_fen(text: str) -> int:
    try:
        value = Decimal(text.strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise ValidationError("金额格式不正确") from None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValidationError("金额须为非负数，最多两位小数")
    return int(value * 100)


class TransitionForm(FlaskForm):
    """One review action, with what the page showed when it was opened (to explain a stale page)."""

    action = HiddenField(validators=[DataRequired()])
    version = IntegerField(validators=[DataRequired(), NumberRange(min=1)])
    seen_status = HiddenField()
    seen_amount = HiddenField()
    seen_decisions = HiddenField()
    reason = TextAreaField("理由", validators=[Optional(), Length(max=2000)])
    amount = StringField("批准金额（元）", validators=[Optional(), Length(max=20)])

    def amount_fen(self) -> int | None:
        """The typed amount in fen, or None when left empty (approve in full)."""
        text = (self.amount.data or "").strip()
        return _yuan_to_fen(text) if text else None


class LiftForm(FlaskForm):
    """Lift a circuit breaker, with the reason the record will keep."""

    institution_id = IntegerField(validators=[DataRequired()])
    reason = TextAreaField("解除理由", validators=[DataRequired(message="请填写解除理由"), Length(max=500)])


class JobForm(FlaskForm):
    """Run a job now (admin); the period is optional."""

    period = StringField("期间（如 2026-09、2026Q3）", validators=[Optional(), Length(max=16)])


class SimulationForm(FlaskForm):
    """Start a what-if simulation: a draft, the history to replay (kinds, a date range), optionally some banks."""

    version = SelectField("草案版本", validators=[DataRequired(message="请选择草案版本")])
    claims = BooleanField("理赔（代偿）申请", default=True)
    applications = BooleanField("贴息、贴保与奖励申请")
    date_from = DateField("起始日", validators=[DataRequired(message="请填写起始日")])
    date_to = DateField("截止日", validators=[DataRequired(message="请填写截止日")])
    institutions = SelectMultipleField("机构（不选即全部）", coerce=int, validators=[Optional()])

    def kinds(self) -> list[str]:
        """The history chosen: claims, applications or both."""
        return [kind for kind, field in (("claims", self.claims), ("applications", self.applications)) if field.data]

    def validate_applications(self, field) -> None:
        """At least one kind of history must be chosen."""
        if not (field.data or self.claims.data):
            raise ValidationError("请至少选择一类历史（理赔或补贴申请）")
