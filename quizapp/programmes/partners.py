"""Partner companies, their openings and recruiters, and what they see.

Organisers (``/organise/programmes/<slug>/partners``) enter a programme's companies,
their openings and their partner accounts, see every company's interest in every
finalist, export the finalists as CSV and print one finalist's profile.

A partner (``/partner``) sees the finalists of its company's programme who currently
share their profile: the finalists are published, the person is selected on them,
and their consent is not revoked. It sees their scores and, on the profile only,
their e-mail address so it can contact them; it marks interest against its own
company's openings and sees no other company's interest.

The operations below change state and write an audit event in the same
transaction; the views commit once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from wtforms import SelectChoice

from quizapp.accounts import services as accounts
from quizapp.accounts.models import Role, User
from quizapp.banks.models import Programme
from quizapp.core import audit, clock
from quizapp.core.auth import role_required
from quizapp.core.errors import DomainError, form_status, pour_onto
from quizapp.extensions import db
from quizapp.programmes import bp, services
from quizapp.programmes.access import ORGANISERS, programme_or_404
from quizapp.programmes.exports import csv_chunks
from quizapp.programmes.models import (
    OPENING_KINDS,
    SELECTED,
    Company,
    Consent,
    Interest,
    Opening,
    PartnerMember,
)
from quizapp.programmes.partner_forms import (
    DESCRIPTION_MAX,
    KIND_LABELS,
    NOTE_MAX,
    ButtonForm,
    CompanyForm,
    InterestForm,
    OpeningForm,
    PartnerAccountForm,
)
from quizapp.programmes.services import CohortRow

TEMPLATES = "programmes/partners"
#: Cells a spreadsheet would run as a formula start with one of these.


# -- Operations ---------------------------------------------------------------------


def _text(value: str | None, max_length: int, field: str, label: str) -> str | None:
    """``value`` trimmed (None when blank).

    :raise DomainError: on ``field`` when it is longer than ``max_length``.
    """
    value = (value or "").strip()
    if len(value) > max_length:
        raise DomainError(
            f"Keep the {label} under {max_length} characters.", field=field
        )
    return value or None


def _required(value: str | None, max_length: int, field: str, label: str) -> str:
    """:raise DomainError: on ``field`` when blank or too long."""
    value = _text(value, max_length, field, label)
    if value is None:
        raise DomainError(f"Enter the {label}.", field=field)
    return value


def _name_taken(name: str) -> DomainError:
    return DomainError(
        f"This programme already has a company called {name}.", field="name"
    )


def add_company(
    programme: Programme, name: str, website: str | None, actor: Any
) -> Company:
    """Add a partner company to ``programme``.

    :raise DomainError: on ``name`` when it is blank, too long, or another company
        of the programme has it (letter case aside); on ``website`` when too long
        or not an http(s) address (pages link to it).
    """
    name = " ".join(_required(name, 200, "name", "company's name").split())
    website = _text(website, 300, "website", "website")
    if website and not website.lower().startswith(("http://", "https://")):
        raise DomainError("Enter an address starting with https://.", field="website")
    taken = select(Company.id).where(
        Company.programme_id == programme.id, func.lower(Company.name) == name.lower()
    )
    if db.session.scalar(taken) is not None:
        raise _name_taken(name)
    company = Company(
        programme_id=programme.id, name=name, website=website, created_at=clock.now()
    )
    try:
        with db.session.begin_nested():  # a concurrent add of the name loses cleanly
            db.session.add(company)
    except IntegrityError:
        raise _name_taken(name) from None
    audit.record(
        "partner.company_added",
        "company",
        company.id,
        actor,
        programme_id=programme.id,
        name=name,
    )
    return company


def add_opening(
    company: Company, title: str, kind: str, description: str | None, actor: Any
) -> Opening:
    """Add an internship or a job to ``company``.

    :raise DomainError: on the field that is blank, too long or of an unknown kind.
    """
    if kind not in OPENING_KINDS:
        raise DomainError("Choose internship or job.", field="kind")
    opening = Opening(
        company=company,
        title=_required(title, 200, "title", "title"),
        kind=kind,
        description=_text(description, DESCRIPTION_MAX, "description", "description"),
        created_at=clock.now(),
    )
    db.session.add(opening)
    db.session.flush()
    audit.record(
        "partner.opening_added",
        "company",
        company.id,
        actor,
        opening_id=opening.id,
        title=opening.title,
        kind=kind,
    )
    return opening


def remove_opening(opening: Opening, actor: Any) -> int:
    """Delete ``opening`` and the interest marked against it; returns how many
    interests went with it (the audit event keeps the count)."""
    interests = list(
        db.session.scalars(select(Interest).where(Interest.opening_id == opening.id))
    )
    for interest in interests:
        db.session.delete(interest)
    audit.record(
        "partner.opening_removed",
        "company",
        opening.company_id,
        actor,
        opening_id=opening.id,
        title=opening.title,
        interests_removed=len(interests),
    )
    opening.company.openings.remove(opening)
    db.session.flush()
    return len(interests)


def link_partner(company: Company, user: User, actor: Any) -> PartnerMember:
    """Make ``user`` (a partner account) speak for ``company``.

    :raise DomainError: on ``email`` when the account is not a partner account or
        already belongs to a company.
    """
    if not user.has_role(Role.partner):
        raise DomainError(f"{user.email} is not a partner account.", field="email")
    if db.session.get(PartnerMember, user.id) is not None:
        raise DomainError(
            f"{user.email} already belongs to a partner company.", field="email"
        )
    member = PartnerMember(user_id=user.id, company=company)
    db.session.add(member)
    audit.record(
        "partner.account_linked",
        "company",
        company.id,
        actor,
        user_id=user.id,
    )
    db.session.flush()
    return member


def create_partner_account(
    company: Company, email: str, name: str, actor: Any
) -> tuple[User, str]:
    """Create a partner account for ``company`` with a generated password.

    Returns the account and the password, which the caller shows once; only its
    hash is stored.

    :raise DomainError: on ``email`` when it is invalid or already has an account,
        on ``name`` when it is blank or too long.
    """
    name = _required(name, 120, "name", "name")
    if accounts.find_by_email(email) is not None:
        raise DomainError(
            "An account with this e-mail address already exists; use another "
            "address, or ask an admin about the existing account.",
            field="email",
        )
    user, password = accounts.create_account(email, name, [Role.partner], actor=actor)
    assert password is not None  # no password was given, so one was generated
    link_partner(company, user, actor)
    audit.record(
        "partner.account_created",
        "company",
        company.id,
        actor,
        user_id=user.id,
    )
    return user, password


def mark_interest(
    opening: Opening, user: User, note: str | None, actor: Any
) -> Interest:
    """Record the company's interest in ``user`` for ``opening``; marking it again
    replaces the note and the time. The caller has checked that the company may
    see ``user``.

    :raise DomainError: on ``note`` when it is longer than :data:`NOTE_MAX`.
    """
    note = _text(note, NOTE_MAX, "note", "note")
    interest = db.session.get(Interest, (opening.id, user.id)) or _new_interest(
        opening, user
    )
    interest.note = note
    interest.marked_at = clock.now()
    interest.marked_by_id = getattr(actor, "id", None)
    audit.record(
        "partner.interest_marked",
        "company",
        opening.company_id,
        actor,
        opening_id=opening.id,
        user_id=user.id,
        note=note,
    )
    db.session.flush()
    return interest


def _new_interest(opening: Opening, user: User) -> Interest:
    """A new row, or the one a colleague's concurrent request just inserted."""
    interest = Interest(opening_id=opening.id, user_id=user.id)
    try:
        with db.session.begin_nested():
            db.session.add(interest)
    except IntegrityError:
        return db.session.get_one(Interest, (opening.id, user.id))
    return interest


def withdraw_interest(interest: Interest, actor: Any) -> None:
    """Delete the interest (the audit event keeps that it existed)."""
    audit.record(
        "partner.interest_withdrawn",
        "company",
        interest.opening.company_id,
        actor,
        opening_id=interest.opening_id,
        user_id=interest.user_id,
    )
    db.session.delete(interest)
    db.session.flush()


# -- Queries ------------------------------------------------------------------------


def companies_of(programme: Programme) -> list[Company]:
    """The programme's companies by name, with openings and accounts loaded."""
    return list(
        db.session.scalars(
            select(Company)
            .where(Company.programme_id == programme.id)
            .options(
                selectinload(Company.openings),
                selectinload(Company.members).selectinload(PartnerMember.user),
            )
            .order_by(Company.name)
        )
    )


def company_or_404(programme: Programme, company_id: int) -> Company:
    """:raise 404: for a company of another programme, or none."""
    company = db.session.scalar(
        select(Company)
        .where(Company.id == company_id, Company.programme_id == programme.id)
        .options(
            selectinload(Company.openings),
            selectinload(Company.members).selectinload(PartnerMember.user),
        )
    )
    if company is None:
        abort(404)
    return company


def opening_or_404(company: Company, opening_id: int | None) -> Opening:
    """:raise 404: for another company's opening, or none."""
    opening = next((o for o in company.openings if o.id == opening_id), None)
    if opening is None:
        abort(404)
    return opening


def finalists(programme: Programme) -> list[CohortRow]:
    """The selected finalists in cohort order (published or not)."""
    return [r for r in services.cohort_ranking(programme) if r.selection == SELECTED]


def consenting_ids(programme: Programme) -> set[int]:
    """Accounts whose consent to share their profile stands (not revoked)."""
    return set(
        db.session.scalars(
            select(Consent.user_id).where(
                Consent.programme_id == programme.id, Consent.revoked_at.is_(None)
            )
        )
    )


def shared_finalists(programme: Programme) -> list[CohortRow]:
    """The finalists a partner may see: none before the finalists are published,
    then the selected finalists whose consent stands."""
    if programme.finalists_published_at is None:
        return []
    consenting = consenting_ids(programme)
    return [r for r in finalists(programme) if r.user.id in consenting]


def interests_of(
    programme: Programme, user_ids: Iterable[int], company: Company | None = None
) -> dict[int, list[Interest]]:
    """Interest marked in these accounts by the programme's companies (or by
    ``company`` only), by account id, oldest first; one query."""
    user_ids = list(user_ids)
    if not user_ids:
        return {}
    query = (
        select(Interest)
        .join(Interest.opening)
        .join(Opening.company)
        .where(Company.programme_id == programme.id, Interest.user_id.in_(user_ids))
        .options(
            contains_eager(Interest.opening).contains_eager(Opening.company),
            joinedload(Interest.marked_by),
        )
        .order_by(Interest.marked_at, Company.name, Opening.id)
    )
    if company is not None:
        query = query.where(Opening.company_id == company.id)
    out: dict[int, list[Interest]] = {}
    for interest in db.session.scalars(query):
        out.setdefault(interest.user_id, []).append(interest)
    return out


@dataclass(frozen=True)
class Partnership:
    """The company a partner account speaks for, and its programme."""

    company: Company
    programme: Programme


def partnership_of(user: User) -> Partnership | None:
    """None for a partner account no organiser has linked to a company."""
    row = db.session.execute(
        select(Company, Programme.slug)
        .join(PartnerMember, PartnerMember.company_id == Company.id)
        .join(Programme, Programme.id == Company.programme_id)
        .where(PartnerMember.user_id == user.id)
        .options(selectinload(Company.openings))
    ).first()
    if row is None:
        return None
    return Partnership(row[0], programme_or_404(row[1]))


# -- What the pages show ------------------------------------------------------------


@dataclass(frozen=True)
class ScoreColumn:
    """One module assessment, as a column of scores."""

    quiz_id: int
    title: str
    module: str


def score_columns(programme: Programme) -> list[ScoreColumn]:
    return [
        ScoreColumn(a.quiz_id, a.quiz.title, module.title)
        for module in programme.modules
        for a in module.assessments
    ]


@dataclass(frozen=True)
class SharedProfile:
    """What a partner may see of one finalist, copied field by field so nothing
    else of the account reaches a partner's page. ``email`` is filled on the
    profile page only."""

    user_id: int
    name: str
    school: str | None
    discipline: str | None
    graduation_year: int | None
    assessments: dict[int, float]
    modules: float
    project: float | None
    combined: float
    email: str | None = None


def shared_profile(row: CohortRow, with_email: bool = False) -> SharedProfile:
    user = row.user
    return SharedProfile(
        user_id=user.id,
        name=user.name,
        school=user.school,
        discipline=user.discipline,
        graduation_year=user.graduation_year,
        assessments=dict(row.assessments),
        modules=row.modules,
        project=row.project,
        combined=row.combined,
        email=user.email if with_email else None,
    )


# -- Organiser pages ----------------------------------------------------------------


def _partners_page(programme: Programme, form: CompanyForm):
    rows = finalists(programme)
    return render_template(
        f"{TEMPLATES}/index.html",
        programme=programme,
        companies=companies_of(programme),
        form=form,
        finalists=rows,
        consenting=consenting_ids(programme),
        interests=interests_of(programme, (r.user.id for r in rows)),
        kinds=KIND_LABELS,
    ), form_status(form)


@bp.get("/organise/programmes/<slug>/partners")
@role_required(*ORGANISERS)
def list_partners(slug: str):
    """The programme's companies with openings and accounts, a form to add one,
    and every company's interest per finalist."""
    return _partners_page(programme_or_404(slug), CompanyForm())


@bp.post("/organise/programmes/<slug>/partners/companies", endpoint="add_company")
@role_required(*ORGANISERS)
def add_company_view(slug: str):
    programme = programme_or_404(slug)
    form = CompanyForm()
    if form.validate_on_submit():
        try:
            company = add_company(
                programme, form.name.data, form.website.data, current_user
            )
        except DomainError as error:
            pour_onto(form, error)
        else:
            db.session.commit()
            flash(
                f"{company.name} added; now add its openings and accounts.", "success"
            )
            return redirect(
                url_for("programmes.show_company", slug=slug, company_id=company.id)
            )
    return _partners_page(programme, form)


def _company_page(
    programme: Programme,
    company: Company,
    opening_form: OpeningForm | None = None,
    account_form: PartnerAccountForm | None = None,
):
    opening_form = opening_form or OpeningForm(formdata=None)
    account_form = account_form or PartnerAccountForm(formdata=None)
    return render_template(
        f"{TEMPLATES}/company.html",
        programme=programme,
        company=company,
        opening_form=opening_form,
        account_form=account_form,
        kinds=KIND_LABELS,
    ), max(form_status(opening_form), form_status(account_form))


@bp.get("/organise/programmes/<slug>/partners/companies/<int:company_id>")
@role_required(*ORGANISERS)
def show_company(slug: str, company_id: int):
    """One company: its openings and accounts, with the forms that add them."""
    programme = programme_or_404(slug)
    return _company_page(programme, company_or_404(programme, company_id))


@bp.post(
    "/organise/programmes/<slug>/partners/companies/<int:company_id>/openings",
    endpoint="add_opening",
)
@role_required(*ORGANISERS)
def add_opening_view(slug: str, company_id: int):
    programme = programme_or_404(slug)
    company = company_or_404(programme, company_id)
    form = OpeningForm()
    if form.validate_on_submit():
        try:
            add_opening(
                company,
                form.title.data,
                form.kind.data,
                form.description.data,
                current_user,
            )
        except DomainError as error:
            pour_onto(form, error)
        else:
            db.session.commit()
            flash(f"Opening added to {company.name}.", "success")
            return redirect(
                url_for("programmes.show_company", slug=slug, company_id=company.id)
            )
    return _company_page(programme, company, opening_form=form)


@bp.post(
    "/organise/programmes/<slug>/partners/companies/<int:company_id>"
    "/openings/<int:opening_id>/remove",
    endpoint="remove_opening",
)
@role_required(*ORGANISERS)
def remove_opening_view(slug: str, company_id: int, opening_id: int):
    """Delete an opening and the interest marked against it."""
    company = company_or_404(programme_or_404(slug), company_id)
    opening = opening_or_404(company, opening_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    title = opening.title
    removed = remove_opening(opening, current_user)
    db.session.commit()
    flash(
        f"Opening {title} removed"
        + (f", with the interest marked in {removed} finalist(s)." if removed else "."),
        "info",
    )
    return redirect(
        url_for("programmes.show_company", slug=slug, company_id=company_id)
    )


@bp.post(
    "/organise/programmes/<slug>/partners/companies/<int:company_id>/accounts",
    endpoint="create_partner_account",
)
@role_required(*ORGANISERS)
def create_partner_account_view(slug: str, company_id: int):
    """Create a recruiter's account for the company; its password is shown once."""
    programme = programme_or_404(slug)
    company = company_or_404(programme, company_id)
    form = PartnerAccountForm()
    if form.validate_on_submit():
        try:
            user, password = create_partner_account(
                company, form.email.data, form.name.data, current_user
            )
        except DomainError as error:
            pour_onto(form, error)
        else:
            db.session.commit()
            flash(
                f"Partner account {user.email} created. Its password, shown only "
                f"now: {password}",
                "warning",
            )
            return redirect(
                url_for("programmes.show_company", slug=slug, company_id=company_id)
            )
    return _company_page(programme, company, account_form=form)


# -- Organiser exports --------------------------------------------------------------


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def finalists_csv_header(columns: list[ScoreColumn]) -> list[str]:
    return [
        "rank",
        "name",
        "email",
        "discipline",
        "school",
        "graduation_year",
        "screening %",
        *(column.title for column in columns),
        "modules %",
        "project %",
        "combined %",
        "consent",
        "interested companies",
    ]


def finalists_csv_record(
    row: CohortRow,
    columns: list[ScoreColumn],
    consents: bool,
    interests: list[Interest],
) -> list[Any]:
    user = row.user
    return [
        row.rank,
        user.name,
        user.email,
        user.discipline or "",
        user.school or "",
        user.graduation_year or "",
        _percent(row.screening),
        *(_percent(row.assessments.get(c.quiz_id)) for c in columns),
        _percent(row.modules),
        _percent(row.project),
        _percent(row.combined),
        "yes" if consents else "no",
        "; ".join(sorted({i.opening.company.name for i in interests})),
    ]


@bp.get("/organise/programmes/<slug>/finalists.csv")
@role_required(*ORGANISERS)
def export_finalists(slug: str):
    """Every selected finalist, consenting or not, in cohort order (tens of rows:
    written whole, not streamed)."""
    programme = programme_or_404(slug)
    rows = finalists(programme)
    columns = score_columns(programme)
    consenting = consenting_ids(programme)
    interests = interests_of(programme, (r.user.id for r in rows))
    records = (
        finalists_csv_record(
            r, columns, r.user.id in consenting, interests.get(r.user.id, [])
        )
        for r in rows
    )
    name = f"{programme.slug}-finalists-{clock.now():%Y%m%d-%H%M}.csv"
    return Response(
        "".join(csv_chunks(itertools.chain([finalists_csv_header(columns)], records))),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def finalist_or_404(rows: list[CohortRow], user_id: int) -> CohortRow:
    """:raise 404: unless ``user_id`` is one of ``rows``."""
    row = next((r for r in rows if r.user.id == user_id), None)
    if row is None:
        abort(404)
    return row


@bp.get("/organise/programmes/<slug>/finalists/<int:user_id>")
@role_required(*ORGANISERS)
def show_finalist_profile(slug: str, user_id: int):
    """A finalist's printable profile: details, scores, consent and all interest.

    :raise 404: for someone who is not a selected finalist of the programme.
    """
    programme = programme_or_404(slug)
    row = finalist_or_404(finalists(programme), user_id)
    return render_template(
        f"{TEMPLATES}/finalist.html",
        programme=programme,
        row=row,
        columns=score_columns(programme),
        consent=db.session.get(Consent, (programme.id, user_id)),
        interests=interests_of(programme, [user_id]).get(user_id, []),
        kinds=KIND_LABELS,
    )


# -- Partner pages ------------------------------------------------------------------


def _partnership_or_404() -> Partnership:
    """:raise 404: for a partner account not linked to a company."""
    partnership = partnership_of(current_user)
    if partnership is None:
        abort(404)
    return partnership


@bp.get("/partner")
@role_required(Role.partner)
def partner_finalists():
    """The finalists who share their profile with the company, with scores and
    the company's own interest; a clear page for an account not linked yet."""
    partnership = partnership_of(current_user)
    if partnership is None:
        return render_template(f"{TEMPLATES}/not_linked.html")
    programme, company = partnership.programme, partnership.company
    rows = shared_finalists(programme)
    return render_template(
        f"{TEMPLATES}/partner_index.html",
        programme=programme,
        company=company,
        profiles=[shared_profile(r) for r in rows],
        columns=score_columns(programme),
        interests=interests_of(programme, (r.user.id for r in rows), company),
        kinds=KIND_LABELS,
    )


def _partner_profile_page(
    partnership: Partnership, row: CohortRow, form: InterestForm | None = None
):
    company = partnership.company
    form = form or InterestForm(formdata=None)
    form.opening_id.choices = [
        SelectChoice(o.id, f"{o.title} ({KIND_LABELS[o.kind].lower()})")
        for o in company.openings
    ]
    interests = interests_of(partnership.programme, [row.user.id], company)
    return render_template(
        f"{TEMPLATES}/partner_finalist.html",
        programme=partnership.programme,
        company=company,
        profile=shared_profile(row, with_email=True),
        columns=score_columns(partnership.programme),
        interests=interests.get(row.user.id, []),
        form=form,
        kinds=KIND_LABELS,
    ), form_status(form)


@bp.get("/partner/finalists/<int:user_id>")
@role_required(Role.partner)
def partner_finalist(user_id: int):
    """One shared finalist's profile, with the e-mail address to contact them.

    :raise 404: for anyone who is not a finalist sharing their profile with the
        partner's programme.
    """
    partnership = _partnership_or_404()
    programme = partnership.programme
    row = finalist_or_404(shared_finalists(programme), user_id)
    return _partner_profile_page(partnership, row)


@bp.post("/partner/finalists/<int:user_id>/interest", endpoint="mark_interest")
@role_required(Role.partner)
def mark_interest_view(user_id: int):
    """Mark (or update the note of) interest for one of the company's openings.

    :raise 404: for a finalist the partner may not see, or another company's
        opening.
    """
    partnership = _partnership_or_404()
    programme = partnership.programme
    row = finalist_or_404(shared_finalists(programme), user_id)
    form = InterestForm()
    if not form.validate_on_submit():
        return _partner_profile_page(partnership, row, form)
    opening = opening_or_404(partnership.company, form.opening_id.data)
    try:
        mark_interest(opening, row.user, form.note.data, current_user)
    except DomainError as error:
        pour_onto(form, error)
        return _partner_profile_page(partnership, row, form)
    db.session.commit()
    flash(f"Interest in {row.user.name} saved for {opening.title}.", "success")
    return redirect(url_for("programmes.partner_finalist", user_id=user_id))


@bp.post(
    "/partner/finalists/<int:user_id>/interest/<int:opening_id>/withdraw",
    endpoint="withdraw_interest",
)
@role_required(Role.partner)
def withdraw_interest_view(user_id: int, opening_id: int):
    """Delete the company's interest in a finalist for one of its openings.

    :raise 404: when the company has marked no such interest.
    """
    company = _partnership_or_404().company
    interest = db.session.get(Interest, (opening_id, user_id))
    if interest is None or interest.opening.company_id != company.id:
        abort(404)
    if not ButtonForm().validate_on_submit():
        abort(400)
    withdraw_interest(interest, current_user)
    db.session.commit()
    flash("Interest withdrawn.", "info")
    return redirect(url_for("programmes.partner_finalist", user_id=user_id))
