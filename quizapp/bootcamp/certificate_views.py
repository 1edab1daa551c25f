"""Certificate pages: the organiser's issue and revoke page, the participant's list
and PDF download, and the public verification page."""

from __future__ import annotations

from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from quizapp.accounts.models import User
from quizapp.banks.models import Programme
from quizapp.bootcamp import bp, certificates
from quizapp.bootcamp.access import ORGANISERS, STAFF_READERS
from quizapp.bootcamp.certificate_forms import (
    IssueAllForm,
    IssueForm,
    RevokeForm,
    VerifyForm,
)
from quizapp.bootcamp.models import Certificate
from quizapp.core.auth import public, role_required, signed_in
from quizapp.core.errors import Conflict, DomainError, form_status, pour_onto
from quizapp.core.security import private_attachment
from quizapp.extensions import db, limiter
from quizapp.programmes.access import programme_or_404

#: Per client address, over the verification page and its form together. Codes are
#: 80 random bits, so this is not what stops guessing; it keeps scrapers off.
VERIFY_LIMIT = "60 per minute"
_verify_limit = limiter.shared_limit(VERIFY_LIMIT, scope="certificate-verify")


# -- Organisers ---------------------------------------------------------------------


def _manage_page(
    programme: Programme,
    *,
    revoke_forms: dict[int, RevokeForm] | None = None,
    alert: str | None = None,
    status: int = 200,
):
    overview = certificates.overview(programme)
    forms = {
        row.certificate.id: RevokeForm(prefix=f"revoke-{row.certificate.id}")
        for row in overview.rows
        if row.certificate is not None
    }
    forms.update(revoke_forms or {})
    return render_template(
        "bootcamp/certificates/manage.html",
        programme=programme,
        overview=overview,
        revoke_forms=forms,
        issue_all=IssueAllForm(),
        alert=alert,
    ), status


def _failure_status(error: DomainError) -> int:
    return error.status if isinstance(error, Conflict) else 422


@bp.get("/organise/programmes/<slug>/certificates")
@role_required(*ORGANISERS)
def manage_certificates(slug: str):
    """The cohort with completion and certificate state; issue and revoke."""
    return _manage_page(programme_or_404(slug))


@bp.post("/organise/programmes/<slug>/certificates/issue")
@role_required(*ORGANISERS)
def issue_certificate(slug: str):
    """:raise 404: for an account id that does not exist."""
    programme = programme_or_404(slug)
    form = IssueForm()
    if not form.validate_on_submit() or not form.user_id.data.isdigit():
        abort(400)
    user = db.session.get(User, int(form.user_id.data)) or abort(404)
    try:
        certificate = certificates.issue(programme, user, current_user)
    except DomainError as error:
        return _manage_page(
            programme, alert=error.message, status=_failure_status(error)
        )
    db.session.commit()
    flash(f"Certificate {certificate.code} issued to {user.name}.", "success")
    return redirect(url_for(".manage_certificates", slug=slug))


@bp.post("/organise/programmes/<slug>/certificates/issue-all")
@role_required(*ORGANISERS)
def issue_all_certificates(slug: str):
    programme = programme_or_404(slug)
    if not IssueAllForm().validate_on_submit():
        abort(400)
    count = certificates.issue_all(programme, current_user)
    db.session.commit()
    if count:
        flash(f"{count} certificate{'s' if count != 1 else ''} issued.", "success")
    else:
        flash("Nobody was due one: everyone who completed has a certificate.", "info")
    return redirect(url_for(".manage_certificates", slug=slug))


@bp.post("/organise/programmes/<slug>/certificates/<int:certificate_id>/revoke")
@role_required(*ORGANISERS)
def revoke_certificate(slug: str, certificate_id: int):
    """:raise 404: for a certificate of another programme."""
    programme = programme_or_404(slug)
    certificate = certificates.in_programme(programme, certificate_id) or abort(404)
    form = RevokeForm(prefix=f"revoke-{certificate.id}")
    if form.validate_on_submit():
        try:
            certificates.revoke(certificate, form.reason.data, current_user)
        except Conflict as error:
            return _manage_page(programme, alert=error.message, status=error.status)
        except DomainError as error:
            pour_onto(form, error)
        else:
            db.session.commit()
            flash(f"Certificate {certificate.code} revoked.", "success")
            return redirect(url_for(".manage_certificates", slug=slug))
    return _manage_page(
        programme, revoke_forms={certificate.id: form}, status=form_status(form)
    )


# -- The participant ----------------------------------------------------------------


@bp.get("/certificates")
@signed_in
def my_certificates():
    return render_template(
        "bootcamp/certificates/mine.html",
        certificates=certificates.of_user(current_user.id),
        long_date=certificates.long_date,
    )


def _readable_or_404(certificate_id: int) -> Certificate:
    """Its owner's, or anyone's for staff; to everybody else it does not exist."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        abort(404)
    if certificate.user_id != current_user.id and not current_user.has_role(
        *STAFF_READERS
    ):
        abort(404)
    return certificate


@bp.get("/certificates/<int:certificate_id>.pdf")
@signed_in
def download_certificate(certificate_id: int):
    """The PDF (a revoked one stamped REVOKED), for its owner and staff.

    :raise 404: for anyone else, so ids cannot be probed.
    """
    certificate = _readable_or_404(certificate_id)
    body = certificates.render_pdf(
        certificate, certificates.verify_url(certificate.code)
    )
    name = certificates.file_name(certificate)
    return private_attachment(body, "application/pdf", name)


# -- Anyone -------------------------------------------------------------------------


@bp.get("/verify")
@_verify_limit
@public
def verify_form():
    """Type a code in; a well-formed one goes to its verification page."""
    typed = "code" in request.args
    form = VerifyForm(request.args if typed else None)
    if typed and form.validate():
        code = certificates.normalise_code(form.code.data)
        return redirect(url_for(".verify", code=code))
    return render_template(
        "bootcamp/certificates/verify_form.html", form=form
    ), form_status(form)


@bp.get("/verify/<code>")
@_verify_limit
@public
def verify(code: str):
    """Whether the certificate is valid and to whom it was issued.

    :raise 404: (a page saying so) when no certificate has the code.
    """
    canonical = certificates.normalise_code(code)
    if canonical is not None and canonical != code:
        return redirect(url_for(".verify", code=canonical))
    certificate = certificates.find_by_code(canonical)
    if certificate is None:
        return render_template(
            "bootcamp/certificates/verify.html",
            certificate=None,
            code=code[: certificates.CODE_INPUT_MAX],
            form=VerifyForm(formdata=None),
        ), 404
    return render_template(
        "bootcamp/certificates/verify.html",
        certificate=certificate,
        long_date=certificates.long_date,
    )
