"""Sign-up, sign-in, sign-out, password change, and the admin's account pages."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from quizapp.accounts import bp, queries, services
from quizapp.accounts.forms import (
    AccountSearchForm,
    ActivationForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    NewAccountForm,
    ResetPasswordForm,
    RoleChangeForm,
    SignInForm,
    SignUpForm,
)
from quizapp.accounts.models import Role, User
from quizapp.core import audit, mail
from quizapp.core.auth import is_safe_next, public, role_required, signed_in
from quizapp.core.errors import DomainError, form_status, pour_onto
from quizapp.extensions import db, limiter


def _start_session(user: User) -> None:
    """Sign ``user`` in on a fresh session, so nothing from before sign-in (a planted
    cookie, another person's leftovers) carries over: a new server-side sign-in
    record whose token the cookie carries (the caller commits)."""
    session.clear()
    session.permanent = True
    services.start_sign_in(user, request.remote_addr, request.headers.get("User-Agent"))
    login_user(user)


def _failed_sign_in(response) -> bool:
    return response.status_code == 401


def _sign_in_account_key() -> str:
    return "sign-in:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["QUIZAPP_SIGNUP_LIMIT_PER_IP"], methods=["POST"]
)
@public
def sign_up():
    """Candidates create their own account, then land signed in on the home page."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = services.register_candidate(
                services.Registration(
                    name=form.name.data,
                    email=form.email.data,
                    password=form.password.data,
                    school=form.school.data,
                    discipline=form.discipline.data,
                    graduation_year=form.graduation_year.data,
                )
            )
        except DomainError as error:
            pour_onto(form, error)
        else:
            _start_session(user)
            db.session.commit()
            flash("Welcome to quizapp. Your account is ready.", "success")
            return redirect(url_for("home.index"))
    return render_template("accounts/sign_up.html", form=form), form_status(form)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["QUIZAPP_LOGIN_LIMIT_PER_IP"],
    methods=["POST"],
    deduct_when=_failed_sign_in,
)
@limiter.limit(
    lambda: current_app.config["QUIZAPP_LOGIN_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    deduct_when=_failed_sign_in,
    key_func=_sign_in_account_key,
)
@public
def sign_in():
    """:raise 429: after too many failed attempts for the address or from the IP."""
    next_url = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except DomainError as error:
            pour_onto(form, error)
            status = error.status
        else:
            _start_session(user)
            db.session.commit()
            return redirect(
                next_url if is_safe_next(next_url) else url_for("home.index")
            )
    elif form.errors:
        status = 422
    return render_template("accounts/sign_in.html", form=form), status


@bp.post("/sign-out")
@signed_in
def sign_out():
    services.end_sign_in(current_user.get_id())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.sign_in"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    """Changing the password signs every other browser out; this one stays in."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user, form.current_password.data, form.new_password.data
            )
        except DomainError as error:
            pour_onto(form, error)
        else:
            _start_session(current_user._get_current_object())
            db.session.commit()
            flash("Your password has been changed.", "success")
            return redirect(url_for("home.index"))
    return render_template("accounts/change_password.html", form=form), form_status(
        form
    )


def _reset_account_key() -> str:
    return "password-reset:" + (request.form.get("email") or "").strip().lower()[:254]


RESET_SENT = (
    "If an account uses that address, we have sent it a link to set a new "
    "password. It works once, for {minutes} minutes. Check your spam folder too."
)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["QUIZAPP_PASSWORD_RESET_LIMIT_PER_IP"], methods=["POST"]
)
@limiter.limit(
    lambda: current_app.config["QUIZAPP_PASSWORD_RESET_LIMIT_PER_ACCOUNT"],
    methods=["POST"],
    key_func=_reset_account_key,
    # A form sent without an address is refused anyway; it names no account.
    exempt_when=lambda: not (request.form.get("email") or "").strip(),
)
@public
def forgot_password():
    """Ask for a reset link. The answer is the same whether or not the address has
    an account, so the page cannot be used to find out who has one.

    :raise 429: after too many requests for the address or from the IP.
    """
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            services.request_password_reset(services.normalise_email(form.email.data))
        except DomainError as error:
            pour_onto(form, error)
            return render_template("accounts/forgot_password.html", form=form), 422
        except mail.MailError:
            db.session.rollback()
            flash(
                "The e-mail could not be sent just now. Try again in a few minutes.",
                "danger",
            )
            return render_template("accounts/forgot_password.html", form=form), 503
        db.session.commit()
        minutes = current_app.config["QUIZAPP_PASSWORD_RESET_MINUTES"]
        flash(RESET_SENT.format(minutes=minutes), "info")
        return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/forgot_password.html", form=form), form_status(
        form
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    """Set a new password from the link in the e-mail, then sign in with it."""
    try:
        user = services.user_for_reset(token)
    except services.ResetLinkInvalid as error:
        flash(error.message, "danger")
        form = ForgotPasswordForm(formdata=None)
        return render_template("accounts/forgot_password.html", form=form), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(user, form.new_password.data)
        except DomainError as error:
            pour_onto(form, error)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash("Your password has been changed. Sign in with it.", "success")
            return redirect(url_for("accounts.sign_in"))
    return render_template(
        "accounts/reset_password.html", form=form, user=user
    ), form_status(form)


@bp.get("/admin/accounts")
@role_required(Role.admin)
def list_accounts():
    form = AccountSearchForm(request.args)
    form.validate()
    page = queries.account_page(
        search=form.q.data or "",
        role=form.role.data or None,
        status=form.status.data or None,
        page=request.args.get("page", 1, type=int),
    )
    return render_template("admin/accounts.html", form=form, page=page)


@bp.route("/admin/accounts/new", methods=["GET", "POST"])
@role_required(Role.admin)
def new_account():
    form = NewAccountForm()
    if form.validate_on_submit():
        try:
            user, generated = services.create_account(
                form.email.data,
                form.name.data,
                form.roles.data,
                password=form.password.data or None,
                actor=current_user,
            )
        except DomainError as error:
            pour_onto(form, error)
        else:
            db.session.commit()
            if generated:
                flash(
                    f"Account created. Its password, shown only now: {generated}",
                    "warning",
                )
            else:
                flash("Account created.", "success")
            return redirect(url_for("accounts.show_account", user_id=user.id))
    return render_template("admin/new_account.html", form=form), form_status(form)


@bp.get("/admin/accounts/<int:user_id>")
@role_required(Role.admin)
def show_account(user_id: int):
    user = _account_or_404(user_id)
    return render_template(
        "admin/account.html",
        user=user,
        roles=list(Role),
        role_form=RoleChangeForm(),
        activation_form=ActivationForm(),
        events=audit.events_for("user", user.id),
    )


def _account_or_404(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _admin_action(change: Callable[[], bool], success: str) -> None:
    """Run one account change: commit and report it if it changed something, show
    the refusal if a rule (last admin, own account) refused it."""
    try:
        changed = change()
    except DomainError as error:
        flash(error.message, "danger")
        return
    if changed:
        db.session.commit()
        flash(success, "success")


@bp.post("/admin/accounts/<int:user_id>/roles")
@role_required(Role.admin)
def change_role(user_id: int):
    user = _account_or_404(user_id)
    form = RoleChangeForm()
    if not form.validate_on_submit():
        abort(400)
    role, grant = form.role.data, form.action.data == "grant"
    change = services.grant_role if grant else services.revoke_role
    _admin_action(
        lambda: change(user, role, actor=current_user),
        f"Role {role} {'granted to' if grant else 'revoked from'} {user.name}.",
    )
    return redirect(url_for("accounts.show_account", user_id=user.id))


@bp.post("/admin/accounts/<int:user_id>/activation")
@role_required(Role.admin)
def change_activation(user_id: int):
    user = _account_or_404(user_id)
    form = ActivationForm()
    if not form.validate_on_submit():
        abort(400)
    active = form.action.data == "activate"
    _admin_action(
        lambda: services.set_active(user, active, actor=current_user),
        f"{user.name} is "
        f"{'activated' if active else 'deactivated and signed out everywhere'}.",
    )
    return redirect(url_for("accounts.show_account", user_id=user.id))
