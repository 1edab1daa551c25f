"""The person's own data page, its JSON download and the deletion request; the
admin's anonymise action and the read-only audit log."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from quizapp.accounts.models import Role, User
from quizapp.core import audit, clock
from quizapp.core.auth import role_required, signed_in
from quizapp.core.errors import DomainError, form_status, pour_onto
from quizapp.core.security import private_attachment
from quizapp.extensions import db, limiter
from quizapp.privacy import bp, export, queries, services
from quizapp.privacy.forms import (
    AnonymiseForm,
    AuditFilterForm,
    DeletionRequestForm,
    WithdrawForm,
)

#: Per account: the export reads everything about a person, so keep it occasional.
EXPORT_LIMIT = "10 per hour"


def _export_key() -> str:
    return f"data-export:{getattr(current_user, 'id', None) or request.remote_addr}"


def _data_page(form: DeletionRequestForm | None = None):
    form = form or DeletionRequestForm()
    return render_template(
        "privacy/data.html",
        user=current_user,
        deletion_form=form,
        withdraw_form=WithdrawForm(),
        format_version=export.FORMAT_VERSION,
    ), form_status(form)


@bp.get("/account/data")
@signed_in
def show_data():
    """What quizapp holds about the signed-in person and why; the download and the
    deletion request."""
    return _data_page()


@bp.get("/account/data.json")
@limiter.limit(EXPORT_LIMIT, key_func=_export_key)
@signed_in
def download_data():
    """Everything quizapp holds about the signed-in person, as a JSON attachment.

    :raise 429: after :data:`EXPORT_LIMIT` downloads.
    """
    now = clock.now()
    document = export.personal_data(current_user, now)
    body = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False)
    name = f"quizapp-data-{current_user.id}-{now:%Y%m%d}.json"
    return private_attachment(body, "application/json", name)


@bp.post("/account/deletion")
@signed_in
def request_deletion():
    form = DeletionRequestForm()
    if form.validate_on_submit():
        try:
            changed = services.request_deletion(
                current_user, form.password.data, clock.now()
            )
        except DomainError as error:
            pour_onto(form, error)
        else:
            db.session.commit()
            if changed:
                flash(
                    "Your request is recorded. An admin will anonymise your account; "
                    "you can withdraw the request until then.",
                    "success",
                )
            return redirect(url_for("privacy.show_data"))
    return _data_page(form)


@bp.post("/account/deletion/withdraw")
@signed_in
def withdraw_deletion():
    if not WithdrawForm().validate_on_submit():
        abort(400)
    if services.withdraw_deletion_request(current_user):
        db.session.commit()
        flash("Your deletion request is withdrawn.", "success")
    return redirect(url_for("privacy.show_data"))


@bp.post("/admin/accounts/<int:user_id>/anonymise")
@role_required(Role.admin)
def anonymise_account(user_id: int):
    """Anonymise after the admin typed the account's e-mail address."""
    user = db.session.get(User, user_id) or abort(404)
    form = AnonymiseForm()
    if not form.validate_on_submit():
        abort(400)
    back = redirect(url_for("accounts.show_account", user_id=user.id))
    if user.anonymised_at is not None:
        flash("This account is already anonymised; nothing changed.", "info")
        return back
    if form.confirm.data.strip().lower() != user.email:
        flash("The e-mail address typed does not match; nothing changed.", "danger")
        return back
    try:
        services.anonymise(user, current_user, clock.now())
    except DomainError as error:
        flash(error.message, "danger")
        return back
    db.session.commit()
    flash(f"The account is anonymised: it is now {user.name}.", "success")
    return back


@bp.get("/admin/audit")
@role_required(Role.admin)
def audit_log():
    """Staff actions, newest first, filtered; read-only (no route edits or deletes
    an event)."""
    form = AuditFilterForm(request.args)
    form.target_type.choices += [(t, t) for t in queries.target_types()]
    valid = form.validate()
    filters = queries.AuditFilters(
        action=form.action.data or "",
        actor=form.actor.data or "",
        target_type=form.target_type.data or "",
        target_id=form.target_id.data if valid else None,
    )
    page = queries.audit_page(filters, page=request.args.get("page", 1, type=int))
    return render_template(
        "privacy/audit.html",
        form=form,
        page=page,
        people=audit.people_in(page.items),
        filters={
            "action": filters.action or None,
            "actor": filters.actor or None,
            "target_type": filters.target_type or None,
            "target_id": filters.target_id,
        },
    )
