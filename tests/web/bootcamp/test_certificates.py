"""Certificate pages: the organiser issues (one, or all who completed) and revokes
with a reason; the owner lists and downloads; staff download; nobody else reaches
a certificate except through its public verification page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from quizapp.banks.models import Programme
from quizapp.bootcamp import certificates
from quizapp.bootcamp.certificate_views import VERIFY_LIMIT
from quizapp.bootcamp.models import Certificate
from quizapp.core import clock
from quizapp.extensions import db
from tests.bootcamp_fixtures import ISSUED, Bootcamp, make_bootcamp, make_certificate
from tests.factories import make_user

PAGE = "/organise/programmes/bc/certificates"


@pytest.fixture
def camp(app, tmp_path) -> Bootcamp:
    return make_bootcamp(tmp_path)


@pytest.fixture
def organiser(app):
    return make_user(email="org@example.org", roles=("organiser",), name="Olga")


@pytest.fixture
def as_organiser(auth, organiser):
    auth.sign_in("org@example.org")
    return organiser


@pytest.fixture
def issued(camp, organiser) -> Certificate:
    """Participant 1 completed and holds a certificate."""
    camp.complete(camp.participants[0])
    with clock.frozen(ISSUED):
        certificate = certificates.issue(
            camp.programme, camp.participants[0], organiser
        )
    db.session.commit()
    return certificate


@pytest.fixture
def held(app) -> Certificate:
    """A certificate as :func:`certificates.issue` leaves it, without a bootcamp
    behind it: the owner's, staff's and public pages read only its own record."""
    return make_certificate("p1@example.org")


@pytest.fixture
def stranger(app):
    return make_user(email="stranger@example.org", name="Someone Else")


def certificate_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate))


def text(response) -> str:
    return response.get_data(as_text=True)


# -- Who may reach what -------------------------------------------------------------


def test_candidates_and_instructors_cannot_reach_the_organiser_page(client, auth, held):
    make_user(email="ins@example.org", roles=("instructor",))
    auth.sign_in("p1@example.org")
    assert client.get(PAGE).status_code == 403
    auth.sign_out()
    auth.sign_in("ins@example.org")
    assert client.get(PAGE).status_code == 403


def test_candidates_cannot_issue_or_revoke(client, auth, forms, held):
    auth.sign_in("p1@example.org")

    for url in (f"{PAGE}/issue", f"{PAGE}/issue-all", f"{PAGE}/{held.id}/revoke"):
        response = forms.post(
            url,
            {"user_id": held.user_id, f"revoke-{held.id}-reason": "Mine"},
            page="/",
        )
        assert response.status_code == 403, url

    assert certificate_count() == 1
    assert db.session.get(Certificate, held.id).is_valid


def test_anonymous_visitors_are_sent_to_sign_in(client, held):
    for url in (PAGE, "/certificates", f"/certificates/{held.id}.pdf"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/sign-in" in response.headers["Location"]


# -- The organiser's page -----------------------------------------------------------


def test_the_page_shows_the_cohort_with_completion_and_certificate_state(
    client, as_organiser, camp, issued
):
    camp.complete(camp.participants[1])
    camp.pass_modules(camp.participants[2])

    page = text(client.get(PAGE))

    rows = dict(re.findall(r'<tr data-user="(\d+)">(.*?)</tr>', page, re.S))
    first, second, third = (rows[str(p.id)] for p in camp.participants)
    assert "3 of 3" in first
    assert issued.code in first
    assert "Revoke" in first
    assert "3 of 3" in second
    assert ">Issue</button>" in second
    assert "2 of 3" in third
    assert "Not completed yet" in third
    assert "Issue to all who completed (1)" in page


def test_issue_one_certificate_but_not_a_second(client, as_organiser, forms, camp):
    camp.complete(camp.participants[0])

    response = forms.post(
        f"{PAGE}/issue", {"user_id": camp.participants[0].id}, page=PAGE
    )

    assert response.status_code == 302
    certificate = db.session.scalar(select(Certificate))
    assert certificate.user_id == camp.participants[0].id
    assert certificate.issued_by_id == as_organiser.id
    assert f"Certificate {certificate.code} issued to Participant 1." in text(
        client.get(PAGE)
    )

    again = forms.post(f"{PAGE}/issue", {"user_id": camp.participants[0].id}, page=PAGE)

    assert again.status_code == 409
    assert "already has a valid certificate" in text(again)
    assert certificate_count() == 1


def test_issuing_to_someone_who_has_not_completed_says_what_is_left(
    client, as_organiser, forms, camp
):
    camp.pass_modules(camp.participants[0])

    response = forms.post(
        f"{PAGE}/issue", {"user_id": camp.participants[0].id}, page=PAGE
    )

    assert response.status_code == 422
    assert "Present the project to the judges" in text(response)
    assert certificate_count() == 0


def test_issuing_to_an_unknown_account_is_404(client, as_organiser, forms, held):
    assert forms.post(f"{PAGE}/issue", {"user_id": 99999}, page=PAGE).status_code == (
        404
    )
    assert certificate_count() == 1


def test_issue_to_all_who_completed_flashes_the_count_and_is_idempotent(
    client, as_organiser, forms, camp
):
    camp.complete(camp.participants[0])
    camp.complete(camp.participants[1])

    first = forms.post(f"{PAGE}/issue-all", {}, page=PAGE)
    assert first.status_code == 302
    assert "2 certificates issued." in text(client.get(PAGE))

    forms.post(f"{PAGE}/issue-all", {}, page=PAGE)
    assert "Nobody was due one" in text(client.get(PAGE))
    assert certificate_count() == 2


def test_revoking_needs_a_reason_shown_next_to_the_field(
    client, as_organiser, forms, held
):
    for reason, message in (
        ("  ", "Say why the certificate is revoked"),
        ("x" * 501, "Keep the reason to 500 characters."),
    ):
        response = forms.post(
            f"{PAGE}/{held.id}/revoke",
            {f"revoke-{held.id}-reason": reason},
            page=PAGE,
        )

        assert response.status_code == 422
        error = re.search(
            rf'id="revoke-{held.id}-reason-error"[^>]*>(.*?)</div>\s*</div>',
            text(response),
            re.S,
        )
        assert error
        assert message in error.group(1)
        assert 'aria-invalid="true"' in text(response)
    assert db.session.get(Certificate, held.id).is_valid


def test_revoking_lists_the_certificate_with_reason_when_and_by_whom(
    client, as_organiser, forms, held
):
    response = forms.post(
        f"{PAGE}/{held.id}/revoke",
        {f"revoke-{held.id}-reason": "Plagiarised project"},
        page=PAGE,
    )

    assert response.status_code == 302
    page = text(client.get(PAGE))
    revoked = page.split('id="revoked"')[1]
    assert held.code in revoked
    assert "Plagiarised project" in revoked
    assert "Olga" in revoked
    assert f"/{held.id}/revoke" not in page


def test_a_certificate_of_another_programme_answers_404(
    client, as_organiser, forms, held
):
    db.session.add(Programme(slug="other-programme", title="Other", content_hash="1"))
    db.session.commit()

    response = forms.post(
        f"/organise/programmes/other-programme/certificates/{held.id}/revoke",
        {f"revoke-{held.id}-reason": "Wrong page"},
        page=PAGE,
    )

    assert response.status_code == 404
    assert db.session.get(Certificate, held.id).is_valid


# -- The owner and the PDF ----------------------------------------------------------


def test_owners_see_their_certificates_only(client, auth, held, stranger):
    auth.sign_in("p1@example.org")
    mine = text(client.get("/certificates"))
    assert held.code in mine
    assert f"/certificates/{held.id}.pdf" in mine

    auth.sign_out()
    auth.sign_in(stranger.email)
    theirs = text(client.get("/certificates"))
    assert held.code not in theirs
    assert "You have no certificate yet" in theirs


def test_the_owner_downloads_the_pdf(client, auth, held):
    auth.sign_in("p1@example.org")

    response = client.get(f"/certificates/{held.id}.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="certificate-bc-{held.code}.pdf"'
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.data == certificates.render_pdf(
        held, f"http://localhost/verify/{held.code}"
    )


def test_anyone_else_gets_404_for_the_pdf(client, auth, held, stranger):
    make_user(email="partner@example.org", roles=("partner",))
    for email in (stranger.email, "partner@example.org"):
        auth.sign_in(email)
        assert client.get(f"/certificates/{held.id}.pdf").status_code == 404
        auth.sign_out()
    auth.sign_in("p1@example.org")
    assert client.get("/certificates/99999.pdf").status_code == 404


def test_staff_download_any_certificate(client, auth, held):
    for role in ("instructor", "organiser", "admin"):
        make_user(email=f"{role}@example.org", roles=(role,))
        auth.sign_in(f"{role}@example.org")

        response = client.get(f"/certificates/{held.id}.pdf")

        assert response.status_code == 200, role
        assert response.data.startswith(b"%PDF-")
        auth.sign_out()


def test_a_revoked_certificate_still_downloads_for_its_owner(
    client, auth, organiser, held
):
    certificates.revoke(held, "Misspelt", organiser)
    db.session.commit()
    auth.sign_in("p1@example.org")

    assert client.get(f"/certificates/{held.id}.pdf").status_code == 200
    page = text(client.get("/certificates"))
    assert "Revoked" in page
    assert "Misspelt" in page


# -- Public verification ------------------------------------------------------------


def test_a_valid_certificate_is_confirmed_to_anyone(client, held):
    response = client.get(f"/verify/{held.code}")

    page = text(response)
    assert response.status_code == 200
    assert '<meta name="robots" content="noindex">' in page
    assert re.search(r'id="verdict">Valid<', page)
    for shown in (
        "Participant 1",
        "Bootcamp for tests",
        "<li>Module one</li>",
        "<li>Module two</li>",
        "<li>Project</li>",
        "1 June 2026",  # completed
        "3 June 2026",  # issued
        held.code,
    ):
        assert shown in page, shown
    assert "p1@example.org" not in page


def test_a_revoked_certificate_is_shown_revoked_without_the_reason(
    client, organiser, held
):
    with clock.frozen(datetime(2026, 7, 1, 9, 0, tzinfo=UTC)):
        certificates.revoke(held, "Plagiarised project", organiser)
    db.session.commit()

    response = client.get(f"/verify/{held.code}")

    page = text(response)
    assert response.status_code == 200
    assert re.search(r'id="verdict">Revoked<', page)
    assert "revoked on 1 July 2026" in page
    assert "Participant 1" in page
    assert "Plagiarised" not in page
    assert ">Valid<" not in page


def test_an_unknown_or_malformed_code_is_404_saying_so(client, held):
    for unknown in ("QZ-0000-0000-0000-0000", "not-a-code"):
        response = client.get(f"/verify/{unknown}")

        assert response.status_code == 404
        page = text(response)
        assert f"No certificate has the code <code>{unknown}</code>" in page
        assert '<meta name="robots" content="noindex">' in page
        assert "Participant 1" not in page


def test_a_code_typed_loosely_goes_to_its_canonical_page(client, held):
    loose = held.code.lower().replace("-", "")[2:]
    response = client.get(f"/verify/{loose}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{held.code}")

    assert client.get("/verify").status_code == 200
    typed = " " + held.code.lower().replace("-", " ") + " "
    response = client.get("/verify", query_string={"code": typed})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{held.code}")


def test_the_verify_form_explains_a_bad_code_next_to_the_field(client, app):
    for typed, message in (
        ("", "Type the code printed"),
        ("hello", "That is not a certificate code"),
    ):
        response = client.get("/verify", query_string={"code": typed})

        assert response.status_code == 422
        page = text(response)
        error = re.search(r'id="code-error"[^>]*>(.*?)</div>\s*</div>', page, re.S)
        assert error
        assert message in error.group(1)


def test_verification_is_rate_limited_per_address(client, app):
    allowed = int(VERIFY_LIMIT.split()[0])
    for _ in range(allowed):
        assert client.get("/verify/QZ-0000-0000-0000-0000").status_code == 404
    assert client.get("/verify").status_code == 429
