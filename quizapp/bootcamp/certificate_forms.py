"""Forms of the certificate pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from quizapp.bootcamp.certificates import (
    CODE_INPUT_MAX,
    REVOKE_REASON_MAX,
    normalise_code,
)


class IssueForm(FlaskForm):
    """A button per participant: issue their certificate."""

    user_id = HiddenField(validators=[DataRequired()])


class IssueAllForm(FlaskForm):
    """A button: issue to everyone who completed (the CSRF token only)."""


class RevokeForm(FlaskForm):
    """One per valid certificate, prefixed ``revoke-<id>`` so each row's field and
    its error have their own ids."""

    reason = TextAreaField(
        "Reason for revoking",
        validators=[
            DataRequired("Say why the certificate is revoked (kept in the log)."),
            Length(
                max=REVOKE_REASON_MAX,
                message=f"Keep the reason to {REVOKE_REASON_MAX} characters.",
            ),
        ],
        description="Kept in the log and shown to the participant, not on the "
        "public verification page.",
    )


class VerifyForm(FlaskForm):
    """Type a code in (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    code = StringField(
        "Certificate code",
        validators=[DataRequired("Type the code printed on the certificate.")],
        description="Printed under the QR code, like QZ-7K3M-Q9TX-ZB2H-4RWE. "
        "Case, spaces and dashes do not matter.",
    )

    def validate_code(self, field: StringField) -> None:
        if len(field.data or "") > CODE_INPUT_MAX or normalise_code(field.data) is None:
            raise ValidationError(
                "That is not a certificate code: it has 16 letters and digits after "
                "QZ, like QZ-7K3M-Q9TX-ZB2H-4RWE."
            )
