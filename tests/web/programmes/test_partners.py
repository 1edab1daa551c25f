"""Partner companies: what organisers enter and see, what partners see of the
finalists who share their profile, interest, the finalists' CSV and profile page."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from quizapp.accounts.models import Role, User
from quizapp.banks.models import ModuleAssessment, Programme, ProgrammeModule, Quiz
from quizapp.core import clock
from quizapp.core.audit import AuditEvent
from quizapp.extensions import db
from quizapp.programmes import partners, services
from quizapp.programmes.models import (
    BY_RANK,
    FINALISTS,
    SELECTED,
    SHORTLIST,
    Company,
    Interest,
    Opening,
    PartnerMember,
    Selection,
)
from tests.factories import counted_queries, make_finished_attempt, make_quiz, make_user

SLUG = "scr-programme"
PARTNERS = f"/organise/programmes/{SLUG}/partners"
CSV_URL = f"/organise/programmes/{SLUG}/finalists.csv"
EVIL_NAME = '=HYPERLINK("http://evil.example","Ada")'


@dataclass
class Funnel:
    programme: Programme
    screening: Quiz
    module_quiz: Quiz
    ada: User  # finalist, shares her profile
    ben: User  # finalist, never agreed
    cleo: User  # finalist, agreed then withdrew
    dan: User  # in the cohort, not a finalist
    company: Company
    opening: Opening
    recruiter: User


def programme_of(slug: str) -> Programme:
    return db.session.scalar(select(Programme).where(Programme.slug == slug))


def put_on_lists(programme: Programme, user: User, *stages: str) -> None:
    for stage in stages:
        db.session.add(
            Selection(
                programme_id=programme.id,
                stage=stage,
                user_id=user.id,
                status=SELECTED,
                source=BY_RANK,
            )
        )


def candidate(name: str, email: str, screening: Quiz, module_quiz, scores):
    user = make_user(email=email, name=name)
    finished = clock.now() - timedelta(days=1)
    make_finished_attempt(user, screening, scores[0], finished_at=finished)
    if module_quiz is not None:
        make_finished_attempt(user, module_quiz, scores[1], finished_at=finished)
    return user


def add_module(programme: Programme, quiz: Quiz) -> None:
    """Give the factory's programme a taught module assessed by ``quiz``."""
    module = ProgrammeModule(
        programme_id=programme.id, slug="m1", title="Module one", position=1
    )
    module.assessments = [ModuleAssessment(quiz_id=quiz.id, position=0)]
    db.session.add(module)


def company_with_partner(programme, name: str, opening: str, email: str):
    company = partners.add_company(programme, name, None, actor=None)
    job = partners.add_opening(company, opening, "job", None, actor=None)
    recruiter = make_user(email=email, name=f"Recruiter of {name}", roles=("partner",))
    partners.link_partner(company, recruiter, actor=None)
    db.session.commit()
    return company, job, recruiter


@pytest.fixture
def funnel(app, tmp_path) -> Funnel:
    screening = make_quiz(tmp_path, "scr", programme=True)
    module_quiz = make_quiz(tmp_path, "m1")
    programme = programme_of(SLUG)
    add_module(programme, module_quiz)
    people = {
        "ada": candidate(
            EVIL_NAME, "ada@example.org", screening, module_quiz, (90, 80)
        ),
        "ben": candidate(
            "Ben Beta", "ben@example.org", screening, module_quiz, (80, 60)
        ),
        "cleo": candidate("Cleo Gamma", "cleo@example.org", screening, None, (70, 0)),
        "dan": candidate(
            "Dan Delta", "dan@example.org", screening, module_quiz, (60, 50)
        ),
    }
    for key, user in people.items():
        stages = (SHORTLIST,) if key == "dan" else (SHORTLIST, FINALISTS)
        put_on_lists(programme, user, *stages)
    programme.finalists_published_at = clock.now()
    db.session.flush()
    services.set_consent(programme, people["ada"], True)
    services.set_consent(programme, people["cleo"], True)
    services.set_consent(programme, people["cleo"], False)
    db.session.commit()
    company, opening, recruiter = company_with_partner(
        programme, "Acme Robotics", "Vision engineer", "recruiter@acme.example"
    )
    return Funnel(
        programme,
        screening,
        module_quiz,
        **people,
        company=company,
        opening=opening,
        recruiter=recruiter,
    )


def sign_in_as(auth, role: str) -> User:
    user = make_user(email=f"{role}@example.org", roles=(role,))
    auth.sign_in(user.email)
    return user


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# -- Who may reach what --------------------------------------------------------------

ORGANISER_PAGES = [
    PARTNERS,
    CSV_URL,
    f"/organise/programmes/{SLUG}/finalists/{{ada}}",
    f"{PARTNERS}/companies/{{company}}",
]


def urls(funnel: Funnel) -> list[str]:
    ids = {"ada": funnel.ada.id, "company": funnel.company.id}
    return [url.format(**ids) for url in ORGANISER_PAGES]


@pytest.mark.parametrize("role", [Role.candidate, Role.instructor, Role.partner])
def test_only_organisers_reach_the_organiser_partner_pages(client, auth, funnel, role):
    sign_in_as(auth, role)

    assert [client.get(url).status_code for url in urls(funnel)] == [403] * 4


def test_anonymous_visitors_are_sent_to_sign_in(client, funnel):
    for url in [*urls(funnel), "/partner", f"/partner/finalists/{funnel.ada.id}"]:
        response = client.get(url)

        assert response.status_code == 302, url
        assert "/sign-in" in response.location


@pytest.mark.parametrize("role", [Role.candidate, Role.organiser, Role.admin])
def test_only_partners_reach_the_partner_pages(client, auth, funnel, role):
    sign_in_as(auth, role)

    assert client.get("/partner").status_code == 403
    assert client.get(f"/partner/finalists/{funnel.ada.id}").status_code == 403


def test_a_company_of_another_programme_is_404(client, auth, funnel, tmp_path):
    make_quiz(tmp_path, "other", programme=True)
    other, _job, _ = company_with_partner(
        programme_of("other-programme"), "Globex", "Analyst", "r@globex.example"
    )
    sign_in_as(auth, Role.organiser)

    assert client.get(f"{PARTNERS}/companies/{other.id}").status_code == 404


# -- What a partner sees -------------------------------------------------------------


def test_a_partner_sees_only_published_finalists_who_share_their_profile(
    client, auth, funnel
):
    auth.sign_in("recruiter@acme.example")

    listing = page(client, "/partner")

    assert "HYPERLINK" in listing  # Ada, escaped by the template
    assert "Ben Beta" not in listing  # never agreed
    assert "Cleo Gamma" not in listing  # withdrew
    assert "Dan Delta" not in listing  # not a finalist
    assert "@example.org" not in listing  # no e-mail on the list
    assert "90%" not in listing  # partners get module and project scores, not screening
    assert "80%" in listing  # Ada's module assessment
    assert "Module one" in listing


def test_a_finalist_who_withdraws_consent_disappears(client, auth, funnel):
    auth.sign_in("recruiter@acme.example")
    assert "HYPERLINK" in page(client, "/partner")

    services.set_consent(funnel.programme, funnel.ada, False)
    db.session.commit()

    assert "HYPERLINK" not in page(client, "/partner")
    assert client.get(f"/partner/finalists/{funnel.ada.id}").status_code == 404


def test_before_the_finalists_are_published_partners_see_nobody(client, auth, funnel):
    funnel.programme.finalists_published_at = None
    db.session.commit()
    auth.sign_in("recruiter@acme.example")

    listing = page(client, "/partner")

    assert "HYPERLINK" not in listing
    assert "have not been published yet" in listing
    assert client.get(f"/partner/finalists/{funnel.ada.id}").status_code == 404


def test_the_profile_of_a_sharing_finalist_shows_her_e_mail(client, auth, funnel):
    auth.sign_in("recruiter@acme.example")

    profile = page(client, f"/partner/finalists/{funnel.ada.id}")

    assert "mailto:ada@example.org" in profile
    assert "Vision engineer" in profile  # the company's opening to mark interest
    assert "css/print.css" in profile


def test_profiles_of_others_are_404_for_a_partner(client, auth, funnel, tmp_path):
    make_quiz(tmp_path, "other", programme=True)
    elsewhere = programme_of("other-programme")
    eve = make_user(email="eve@example.org", name="Eve Else")
    put_on_lists(elsewhere, eve, SHORTLIST, FINALISTS)
    elsewhere.finalists_published_at = clock.now()
    db.session.flush()
    services.set_consent(elsewhere, eve, True)
    db.session.commit()
    auth.sign_in("recruiter@acme.example")

    for user in (funnel.ben, funnel.cleo, funnel.dan, eve):
        assert client.get(f"/partner/finalists/{user.id}").status_code == 404
    assert client.get("/partner/finalists/999999").status_code == 404


def test_a_partner_account_without_a_company_is_told_so(client, auth, funnel):
    sign_in_as(auth, Role.partner)

    listing = page(client, "/partner")

    assert "not linked to a company yet" in listing
    assert "HYPERLINK" not in listing
    assert client.get(f"/partner/finalists/{funnel.ada.id}").status_code == 404


def test_the_partner_list_takes_the_same_queries_for_one_or_three_finalists(
    client, auth, funnel
):
    auth.sign_in("recruiter@acme.example")
    with counted_queries() as one:
        page(client, "/partner")
    fay = candidate("Fay Phi", "fay@example.org", funnel.screening, None, (75, 0))
    put_on_lists(funnel.programme, fay, SHORTLIST, FINALISTS)
    db.session.flush()
    for user in (funnel.ben, fay):
        services.set_consent(funnel.programme, user, True)
    db.session.commit()

    with counted_queries() as three:
        listing = page(client, "/partner")

    assert "Fay Phi" in listing
    assert len(three) == len(one), (one, three)


# -- Interest ------------------------------------------------------------------------


def interest_url(funnel: Funnel) -> str:
    return f"/partner/finalists/{funnel.ada.id}/interest"


def test_a_partner_marks_and_withdraws_interest_and_organisers_see_it(
    client, auth, forms, funnel
):
    auth.sign_in("recruiter@acme.example")
    profile = f"/partner/finalists/{funnel.ada.id}"

    marked = forms.post(
        interest_url(funnel),
        {"opening_id": funnel.opening.id, "note": "Great at vision"},
        page=profile,
    )
    again = forms.post(
        interest_url(funnel),
        {"opening_id": funnel.opening.id, "note": "Interview in May"},
        page=profile,
    )

    assert marked.status_code == again.status_code == 302
    (interest,) = db.session.scalars(select(Interest)).all()
    assert (interest.user_id, interest.note) == (funnel.ada.id, "Interview in May")
    assert interest.marked_by_id == funnel.recruiter.id
    assert "Interview in May" in page(client, profile)
    assert "Vision engineer" in page(client, "/partner")
    auth.sign_out()
    sign_in_as(auth, Role.organiser)
    overview = page(client, PARTNERS)
    assert "Interview in May" in overview
    assert "Acme Robotics" in overview
    assert "Interview in May" in page(
        client, f"/organise/programmes/{SLUG}/finalists/{funnel.ada.id}"
    )
    auth.sign_out()
    auth.sign_in("recruiter@acme.example")

    withdrawn = forms.post(
        f"{interest_url(funnel)}/{funnel.opening.id}/withdraw", {}, page=profile
    )

    assert withdrawn.status_code == 302
    assert db.session.scalars(select(Interest)).all() == []
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("partner.interest_marked") == 2
    assert "partner.interest_withdrawn" in actions


def test_interest_against_another_companys_opening_is_404(client, auth, forms, funnel):
    _initech, theirs, _ = company_with_partner(
        funnel.programme, "Initech", "Data analyst", "r@initech.example"
    )
    auth.sign_in("recruiter@acme.example")
    profile = f"/partner/finalists/{funnel.ada.id}"

    marked = forms.post(interest_url(funnel), {"opening_id": theirs.id}, page=profile)
    on_ben = forms.post(
        f"/partner/finalists/{funnel.ben.id}/interest",
        {"opening_id": funnel.opening.id},
        page=profile,
    )

    assert marked.status_code == 404
    assert on_ben.status_code == 404  # Ben does not share his profile
    assert db.session.scalars(select(Interest)).all() == []


def test_partners_never_see_another_companys_interest(client, auth, forms, funnel):
    _initech, theirs, rival = company_with_partner(
        funnel.programme, "Initech", "Data analyst", "r@initech.example"
    )
    partners.mark_interest(theirs, funnel.ada, "Rival's secret note", rival)
    db.session.commit()
    auth.sign_in("recruiter@acme.example")

    profile = page(client, f"/partner/finalists/{funnel.ada.id}")
    listing = page(client, "/partner")
    withdraw = forms.post(
        f"{interest_url(funnel)}/{theirs.id}/withdraw",
        {},
        page=f"/partner/finalists/{funnel.ada.id}",
    )

    for text in (profile, listing):
        assert "Initech" not in text
        assert "secret note" not in text
        assert "Data analyst" not in text
    assert withdraw.status_code == 404
    assert len(db.session.scalars(select(Interest)).all()) == 1


def test_a_long_note_is_refused_next_to_the_field(client, auth, forms, funnel):
    auth.sign_in("recruiter@acme.example")

    response = forms.post(
        interest_url(funnel),
        {"opening_id": funnel.opening.id, "note": "x" * 501},
        page=f"/partner/finalists/{funnel.ada.id}",
    )

    assert response.status_code == 422
    error = re.search(
        r'id="note-error"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S
    )
    assert error is not None
    assert "500" in error.group(1)
    assert db.session.scalars(select(Interest)).all() == []


# -- Organisers: companies, openings, accounts ---------------------------------------


def test_an_organiser_adds_a_company_and_an_opening(client, auth, forms, funnel):
    sign_in_as(auth, Role.organiser)

    added = forms.post(
        f"{PARTNERS}/companies",
        {"name": "Umbrella Labs", "website": "https://umbrella.example"},
        page=PARTNERS,
    )
    company = db.session.scalar(select(Company).where(Company.name == "Umbrella Labs"))
    company_page = f"{PARTNERS}/companies/{company.id}"
    opening = forms.post(
        f"{company_page}/openings",
        {"title": "Robotics intern", "kind": "internship", "description": "Summer"},
        page=company_page,
    )

    assert added.status_code == opening.status_code == 302
    assert added.location.endswith(company_page)
    assert [(o.title, o.kind) for o in company.openings] == [
        ("Robotics intern", "internship")
    ]
    listing = page(client, PARTNERS)
    assert "Umbrella Labs" in listing
    assert "Robotics intern" in listing
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "partner.company_added" in actions
    assert "partner.opening_added" in actions


def test_a_duplicate_company_name_is_refused_next_to_the_field(
    client, auth, forms, funnel
):
    sign_in_as(auth, Role.organiser)

    response = forms.post(
        f"{PARTNERS}/companies", {"name": "acme robotics"}, page=PARTNERS
    )

    assert response.status_code == 422
    error = re.search(
        r'id="name-error"[^>]*>(.*?)</div>', response.get_data(as_text=True), re.S
    )
    assert error is not None
    assert "already has a company called" in error.group(1)
    assert len(db.session.scalars(select(Company)).all()) == 1


def test_a_website_must_be_an_http_address(client, auth, forms, funnel):
    sign_in_as(auth, Role.organiser)

    response = forms.post(
        f"{PARTNERS}/companies",
        {"name": "Evil Corp", "website": "javascript://evil.example/%0aalert(1)"},
        page=PARTNERS,
    )

    assert response.status_code == 422
    assert 'id="website-error"' in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Company)).all()) == 1


def test_a_bad_opening_kind_is_422_not_500(client, auth, forms, funnel):
    sign_in_as(auth, Role.organiser)
    company_page = f"{PARTNERS}/companies/{funnel.company.id}"

    response = forms.post(
        f"{company_page}/openings", {"title": "", "kind": "gig"}, page=company_page
    )

    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="title-error"' in text
    assert 'id="kind-error"' in text


def test_removing_an_opening_removes_its_interest(client, auth, forms, funnel):
    partners.mark_interest(funnel.opening, funnel.ada, None, funnel.recruiter)
    db.session.commit()
    sign_in_as(auth, Role.organiser)
    company_page = f"{PARTNERS}/companies/{funnel.company.id}"

    response = forms.post(
        f"{company_page}/openings/{funnel.opening.id}/remove", {}, page=company_page
    )

    assert response.status_code == 302
    assert db.session.scalars(select(Opening)).all() == []
    assert db.session.scalars(select(Interest)).all() == []
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "partner.opening_removed")
    )
    assert event.details["interests_removed"] == 1


def test_creating_a_partner_account_shows_its_password_once(
    client, auth, forms, funnel
):
    sign_in_as(auth, Role.organiser)
    company_page = f"{PARTNERS}/companies/{funnel.company.id}"

    response = forms.post(
        f"{company_page}/accounts",
        {"name": "Rita Recruiter", "email": "Rita@Acme.example"},
        page=company_page,
    )
    first = page(client, response.location)
    second = page(client, company_page)

    password = re.search(r"shown only now: (\S+?)</div>", first).group(1)
    assert password not in second
    assert "rita@acme.example" in second
    rita = db.session.scalar(select(User).where(User.email == "rita@acme.example"))
    assert rita.role_names == {"partner"}
    assert db.session.get(PartnerMember, rita.id).company_id == funnel.company.id
    assert (
        "partner.account_created" in db.session.scalars(select(AuditEvent.action)).all()
    )
    auth.sign_out()
    auth.sign_in("rita@acme.example", password)
    assert "HYPERLINK" in page(client, "/partner")


def test_an_e_mail_in_use_is_refused_next_to_the_field(client, auth, forms, funnel):
    sign_in_as(auth, Role.organiser)
    company_page = f"{PARTNERS}/companies/{funnel.company.id}"

    response = forms.post(
        f"{company_page}/accounts",
        {"name": "Ben again", "email": "ben@example.org"},
        page=company_page,
    )

    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert db.session.get(PartnerMember, funnel.ben.id) is None


# -- Organisers: exports -------------------------------------------------------------


def test_the_csv_lists_every_finalist_with_formulas_neutralised(client, auth, funnel):
    sign_in_as(auth, Role.organiser)
    partners.mark_interest(funnel.opening, funnel.ben, None, funnel.recruiter)
    db.session.commit()

    response = client.get(CSV_URL)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    header, *rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert header[6:9] == ["screening %", "Quiz m1", "modules %"]
    by_email = {row[2]: row for row in rows}
    assert sorted(by_email) == [
        "ada@example.org",
        "ben@example.org",
        "cleo@example.org",
    ]
    ada = dict(zip(header, by_email["ada@example.org"], strict=True))
    assert ada["name"] == "'" + EVIL_NAME
    assert (ada["screening %"], ada["Quiz m1"], ada["modules %"]) == (
        "90.00",
        "80.00",
        "80.00",
    )
    assert ada["consent"] == "yes"
    assert by_email["ben@example.org"][-2:] == ["no", "Acme Robotics"]
    assert by_email["cleo@example.org"][-2] == "no"  # withdrew
    assert [row[0] for row in rows] == ["1", "2", "4"]  # Dan (3rd) is no finalist


def test_the_printable_profile_is_404_for_someone_not_a_finalist(client, auth, funnel):
    sign_in_as(auth, Role.organiser)
    base = f"/organise/programmes/{SLUG}/finalists"

    profile = page(client, f"{base}/{funnel.ben.id}")

    assert "ben@example.org" in profile
    assert "Module one" in profile
    assert "css/print.css" in profile
    assert client.get(f"{base}/{funnel.dan.id}").status_code == 404
    assert (
        client.get(f"/organise/programmes/nope/finalists/{funnel.ben.id}").status_code
        == 404
    )


# -- Demo ----------------------------------------------------------------------------


def test_the_demo_links_its_partner_to_its_company_once(runner):
    for _ in range(2):
        assert runner.invoke(args=["demo", "--applicants", "0"]).exit_code == 0

    (company,) = db.session.scalars(select(Company)).all()
    assert company.name == "Demo Robotics Pte Ltd"
    assert [(o.title, o.kind) for o in company.openings] == [
        ("Computer vision intern", "internship"),
        ("ML engineer", "job"),
    ]
    (member,) = db.session.scalars(select(PartnerMember)).all()
    assert member.user.email == "partner@demo.example"
    assert member.company_id == company.id
