"""Forms for signing up, signing in and managing accounts.

Field-level checks (required, length) live here; rules that need the database or a
policy (e-mail taken, password strength, last admin) live in the services and come
back onto the field through :func:`quizapp.core.errors.pour_onto`.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    widgets,
)
from wtforms import SelectChoice as Choice
from wtforms.validators import EqualTo, InputRequired, Length, NumberRange, Optional

from quizapp.accounts.models import (
    DISCIPLINES,
    GRADUATION_YEAR_MAX,
    GRADUATION_YEAR_MIN,
    STAFF_ROLES,
    Role,
)
from quizapp.accounts.passwords import MAX_LENGTH, MIN_LENGTH

EMAIL = [InputRequired("Enter your e-mail address."), Length(max=254)]
NAME = [InputRequired("Enter a name."), Length(max=120)]


class SignUpForm(FlaskForm):
    name = StringField("Full name", NAME, render_kw={"autocomplete": "name"})
    email = EmailField("E-mail", EMAIL, render_kw={"autocomplete": "email"})
    password = PasswordField(
        "Password",
        [InputRequired("Choose a password."), Length(max=MAX_LENGTH)],
        description=f"At least {MIN_LENGTH} characters. "
        "A few unrelated words work well.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the password",
        [
            InputRequired("Repeat the password."),
            EqualTo("password", "The two passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    school = StringField(
        "School or employer",
        [InputRequired("Enter your school or employer."), Length(max=200)],
        render_kw={"autocomplete": "organization"},
    )
    discipline = SelectField(
        "Discipline",
        [InputRequired("Choose a discipline.")],
        choices=[Choice("", "Choose…"), *(Choice(d) for d in DISCIPLINES)],
        validate_choice=False,  # the service checks it, with its own message
    )
    graduation_year = IntegerField(
        "Graduation year (past or expected)",
        [
            InputRequired("Enter a year, e.g. 2026."),
            NumberRange(
                GRADUATION_YEAR_MIN,
                GRADUATION_YEAR_MAX,
                f"Enter a year between {GRADUATION_YEAR_MIN} and "
                f"{GRADUATION_YEAR_MAX}.",
            ),
        ],
        render_kw={"inputmode": "numeric"},
    )
    submit = SubmitField("Create account")


class SignInForm(FlaskForm):
    email = EmailField("E-mail", EMAIL, render_kw={"autocomplete": "username"})
    password = PasswordField(
        "Password",
        [InputRequired("Enter your password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Sign in")


def _new_password_fields(consequence: str) -> tuple[PasswordField, PasswordField]:
    """The new password and its repetition, for changing and for resetting it."""
    new_password = PasswordField(
        "New password",
        [InputRequired("Choose a new password."), Length(max=MAX_LENGTH)],
        description=f"At least {MIN_LENGTH} characters. {consequence}",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the new password",
        [
            InputRequired("Repeat the new password."),
            EqualTo("new_password", "The two passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return new_password, confirm


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        [InputRequired("Enter your current password."), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password, confirm = _new_password_fields("Other browsers will be signed out.")
    submit = SubmitField("Change password")


class ForgotPasswordForm(FlaskForm):
    email = EmailField("E-mail", EMAIL, render_kw={"autocomplete": "email"})
    submit = SubmitField("Send me a link")


class ResetPasswordForm(FlaskForm):
    new_password, confirm = _new_password_fields(
        "Every browser signed in to this account will be signed out."
    )
    submit = SubmitField("Set the new password")


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class NewAccountForm(FlaskForm):
    name = StringField("Full name", NAME)
    email = EmailField("E-mail", EMAIL)
    roles = CheckboxListField(
        "Roles",
        [InputRequired("Give the account at least one role.")],
        choices=[Choice(r.value, r.label) for r in (*STAFF_ROLES, Role.candidate)],
    )
    password = PasswordField(
        "Password",
        [Optional(), Length(max=MAX_LENGTH)],
        description="Leave empty to generate one; it is shown once after saving.",
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Create account")


class RoleChangeForm(FlaskForm):
    """One grant or revoke button on the account page (told apart by ``action``)."""

    role = SelectField(choices=[Choice(r.value, r.label) for r in Role])
    action = SelectField(choices=[Choice("grant"), Choice("revoke")])


class ActivationForm(FlaskForm):
    action = SelectField(choices=[Choice("deactivate"), Choice("activate")])


class AccountSearchForm(FlaskForm):
    """The filters above the account list (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    q = StringField(
        "Search",
        [Optional(), Length(max=100)],
        render_kw={"placeholder": "Name or e-mail"},
    )
    role = SelectField(
        "Role",
        [Optional()],
        choices=[Choice("", "Any role"), *(Choice(r.value, r.label) for r in Role)],
    )
    status = SelectField(
        "Status",
        [Optional()],
        choices=[
            Choice("", "Active and deactivated"),
            Choice("active", "Active"),
            Choice("deactivated", "Deactivated"),
            Choice("deletion_requested", "Deletion requested"),
            Choice("anonymised", "Anonymised"),
        ],
    )
