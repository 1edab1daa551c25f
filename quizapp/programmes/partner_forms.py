"""Forms of the partner pages: the organiser's companies, openings and partner
accounts, and the partner's interest in a finalist.

Field checks (required, length, format) live here; rules that need the database (a
name taken, an e-mail in use) come back from :mod:`quizapp.programmes.partners`
onto the field through :func:`quizapp.core.errors.pour_onto`.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import URL, Email, InputRequired, Length, Optional

from quizapp.programmes.models import OPENING_KINDS

#: Longest note a partner keeps with an interest (the column's size).
NOTE_MAX = 500
DESCRIPTION_MAX = 5000
KIND_LABELS = {"internship": "Internship", "job": "Job"}


class CompanyForm(FlaskForm):
    name = StringField(
        "Company name",
        [InputRequired("Enter the company's name."), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    website = URLField(
        "Website (optional)",
        [
            Optional(),
            URL(message="Enter a full address, such as https://example.com."),
            Length(max=300),
        ],
    )


class OpeningForm(FlaskForm):
    title = StringField(
        "Title", [InputRequired("Give the opening a title."), Length(max=200)]
    )
    kind = SelectField(
        "Kind",
        choices=[SelectChoice(kind, KIND_LABELS[kind]) for kind in OPENING_KINDS],
        validators=[InputRequired()],
    )
    description = TextAreaField(
        "Description (optional)",
        [Optional(), Length(max=DESCRIPTION_MAX)],
        description="What the finalist would do; partners see it with the opening.",
    )


class PartnerAccountForm(FlaskForm):
    name = StringField(
        "Recruiter's name", [InputRequired("Enter a name."), Length(max=120)]
    )
    email = EmailField(
        "Recruiter's e-mail",
        [
            InputRequired("Enter an e-mail address."),
            Email("Enter a valid e-mail address."),
            Length(max=254),
        ],
    )


class InterestForm(FlaskForm):
    """Mark interest in a finalist for one of the company's openings; marking the
    same opening again replaces the note. The view fills ``opening_id.choices``
    and checks the opening is the company's (another's is 404, not a form error)."""

    opening_id = SelectField(
        "Opening",
        coerce=int,
        validate_choice=False,
        validators=[InputRequired("Choose an opening.")],
    )
    note = TextAreaField(
        "Note (optional)",
        [Optional(), Length(max=NOTE_MAX)],
        description=f"Up to {NOTE_MAX} characters; the organisers see it too.",
    )


class ButtonForm(FlaskForm):
    """A button that changes something (remove an opening, withdraw interest): it
    carries the CSRF token only."""
