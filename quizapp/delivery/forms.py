"""Forms of the attempt pages. Answers themselves are read by
:mod:`quizapp.delivery.responses`; these carry the CSRF token and the staff inputs."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional


class AttemptForm(FlaskForm):
    """Start, answer, flag, submit: the buttons are told apart by ``action``."""


class AccommodationForm(FlaskForm):
    email = EmailField(
        "Candidate's e-mail", validators=[DataRequired(), Email(), Length(max=254)]
    )
    scope = SelectField("Applies to", choices=[])
    extra_minutes = IntegerField(
        "Extra minutes",
        default=0,
        validators=[Optional(), NumberRange(min=0, max=1440)],
        description="Added to the time limit, after the multiplier.",
    )
    time_multiplier = DecimalField(
        "Time multiplier",
        default=1,
        places=2,
        validators=[Optional(), NumberRange(min=1, max=10)],
        description="1.25 gives 25% more time; 1 leaves the time limit as it is.",
    )
    extra_attempts = IntegerField(
        "Extra attempts",
        default=0,
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    closes_at = DateTimeLocalField(
        "Own closing time (optional)",
        validators=[Optional()],
        format="%Y-%m-%dT%H:%M",
        description="By default the candidate's window closes later by their extra "
        "time, so the quiz's closing time never cuts the extension short.",
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=300)])
