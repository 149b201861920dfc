"""The console's forms (flask-wtf): every one carries a CSRF token; amounts are typed in yuan."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, StringField, TextAreaField
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
