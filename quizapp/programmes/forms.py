"""Forms of the organiser's pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    StringField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from quizapp.programmes.services import REASON_MAX


class PickForm(FlaskForm):
    """Shortlist the top N, or select the top M finalists."""

    size = IntegerField(
        "How many", validators=[DataRequired(), NumberRange(min=1, max=100_000)]
    )
    replace = BooleanField("Replace the current list (changes by hand are lost)")


class AddForm(FlaskForm):
    email = EmailField(
        "Candidate's e-mail", validators=[DataRequired(), Email(), Length(max=254)]
    )
    reason = StringField(
        "Reason", validators=[DataRequired(), Length(min=3, max=REASON_MAX)]
    )


class RemoveForm(FlaskForm):
    user_id = HiddenField(validators=[DataRequired()])
    reason = StringField(
        "Reason", validators=[DataRequired(), Length(min=3, max=REASON_MAX)]
    )


class PublishForm(FlaskForm):
    """A button: show or hide the list's outcome to candidates."""

    publish = HiddenField(validators=[DataRequired(), AnyOf(("on", "off"))])


class WeightsForm(FlaskForm):
    weight_screening = DecimalField(
        "Screening",
        places=1,
        validators=[InputRequired(), NumberRange(min=0, max=1000)],
    )
    weight_modules = DecimalField(
        "Module assessments",
        places=1,
        validators=[InputRequired(), NumberRange(min=0, max=1000)],
    )
    weight_project = DecimalField(
        "Mini-project",
        places=1,
        validators=[InputRequired(), NumberRange(min=0, max=1000)],
        description="Counts once projects are scored; until then the other two "
        "weights are rescaled.",
    )


class WindowForm(FlaskForm):
    opens_at = DateTimeLocalField(
        "Opens", validators=[Optional()], format="%Y-%m-%dT%H:%M"
    )
    closes_at = DateTimeLocalField(
        "Closes",
        validators=[Optional()],
        format="%Y-%m-%dT%H:%M",
        description="Closing ends attempts in progress at this time (extra time "
        "granted with its own closing time stays).",
    )
    reason = StringField(
        "Reason (kept in the log)", validators=[Optional(), Length(max=REASON_MAX)]
    )


class WindowActionForm(FlaskForm):
    """Open now, close now, go back to the files' window."""

    action = HiddenField(
        validators=[DataRequired(), AnyOf(("open", "close", "revert"))]
    )


class ConsentForm(FlaskForm):
    give = HiddenField(validators=[DataRequired(), AnyOf(("yes", "no"))])


class VisibilityForm(FlaskForm):
    public = HiddenField(validators=[DataRequired(), AnyOf(("on", "off"))])
