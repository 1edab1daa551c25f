"""Forms of the personal-data pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms import SelectChoice as Choice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from quizapp.accounts.passwords import MAX_LENGTH


class DeletionRequestForm(FlaskForm):
    password = PasswordField(
        "Your password",
        [InputRequired("Enter your password to confirm."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Ask for my account to be deleted")


class WithdrawForm(FlaskForm):
    """A button: withdraw the deletion request (the CSRF token only)."""


class AnonymiseForm(FlaskForm):
    confirm = StringField(
        "Type the account's e-mail address to confirm",
        [
            InputRequired("Type the account's e-mail address to confirm."),
            Length(max=254),
        ],
    )


class AuditFilterForm(FlaskForm):
    """The filters above the audit log (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    action = StringField(
        "Action starts with",
        [Optional(), Length(max=64)],
        render_kw={"placeholder": "e.g. account. or certificate.revoked"},
    )
    actor = StringField(
        "Actor's e-mail",
        [Optional(), Length(max=254)],
        render_kw={"placeholder": "Actor's e-mail (or part)"},
    )
    target_type = SelectField("Target", [Optional()], choices=[Choice("", "Any")])
    target_id = IntegerField(
        "Target id",
        [Optional(), NumberRange(min=1, message="Enter a positive id.")],
        render_kw={"inputmode": "numeric", "placeholder": "Id"},
    )
