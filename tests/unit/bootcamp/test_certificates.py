"""Certificate services: codes and their normalisation, issuing only to those who
completed and never twice, issuing to everyone, revoking, and the PDF (its text,
its QR code of the verification URL, and the same bytes every time)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta

import fpdf
import pytest
import segno
from fpdf import FPDF
from sqlalchemy import func, select

from quizapp.bootcamp import certificates, progress
from quizapp.bootcamp.models import Certificate
from quizapp.core import clock
from quizapp.core.audit import AuditEvent
from quizapp.core.errors import Conflict, DomainError
from quizapp.extensions import db
from tests.bootcamp_fixtures import (
    ISSUED,
    WHEN,
    Bootcamp,
    make_bootcamp,
    make_certificate,
)
from tests.factories import make_finished_attempt, make_user

#: 18:30 UTC is 02:30 the next day in Singapore: the completion date is local.
REVIEWED = datetime(2026, 6, 1, 18, 30, tzinfo=UTC)
CODE = re.compile(r"^QZ(-[0-9A-HJKMNP-TV-Z]{4}){4}$")


@pytest.fixture
def app_config() -> dict:
    return {"TIMEZONE": "Asia/Singapore"}


@pytest.fixture
def camp(app, tmp_path) -> Bootcamp:
    return make_bootcamp(tmp_path)


@pytest.fixture
def organiser(app):
    return make_user(email="org@example.org", roles=("organiser",), name="Olga")


def count_certificates() -> int:
    return db.session.scalar(select(func.count()).select_from(Certificate))


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# -- Codes --------------------------------------------------------------------------


def test_new_codes_are_80_bits_of_crockford_base32_in_groups():
    codes = {certificates.new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(CODE.match(code) for code in codes)
    assert certificates.CODE_SYMBOLS * 5 >= 80
    assert len(certificates.ALPHABET) == 32


@pytest.mark.parametrize(
    "typed",
    [
        "QZ-7K3M-Q9TX-ZB2H-4RWE",
        "qz-7k3m-q9tx-zb2h-4rwe",
        "QZ7K3MQ9TXZB2H4RWE",
        "7K3M Q9TX ZB2H 4RWE",
        " qz 7k3m-q9tx  zb2h-4rwe ",
        "QZ\u20117K3M\u2013Q9TX-ZB2H-4RWE",
    ],
)
def test_a_code_is_found_whatever_its_case_spaces_and_dashes(typed):
    assert certificates.normalise_code(typed) == "QZ-7K3M-Q9TX-ZB2H-4RWE"


def test_letters_crockford_leaves_out_are_read_as_the_digits_they_look_like():
    assert certificates.normalise_code("QZ-OOII-LLOO-1111-0000") == (
        "QZ-0011-1100-1111-0000"
    )


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "QZ-7K3M-Q9TX-ZB2H",  # too short
        "QZ-7K3M-Q9TX-ZB2H-4RWE-A",  # too long
        "QZ-7K3M-Q9TX-ZB2H-4RWU",  # U is not a symbol
        "QZ-7K3M-Q9TX-ZB2H-4RW!",
        "QZ-" + "7" * 100,
    ],
)
def test_anything_else_is_not_a_code(typed):
    assert certificates.normalise_code(typed) is None


# -- Issuing ------------------------------------------------------------------------


def test_no_certificate_before_every_module_is_completed_and_what_is_left(
    camp, organiser
):
    user = camp.participants[0]
    with pytest.raises(DomainError) as raised:
        certificates.issue(camp.programme, user, organiser)
    assert raised.value.message == (
        "Participant 1 has not completed the programme yet. Still to do: Module one "
        "(Pass Quiz bc-m1), Module two (Pass Quiz bc-m2), Project (Present the "
        "project to the judges)."
    )

    camp.pass_modules(user)
    with pytest.raises(DomainError) as raised:
        certificates.issue(camp.programme, user, organiser)
    assert raised.value.message.endswith(
        "Still to do: Project (Present the project to the judges)."
    )
    db.session.rollback()
    assert count_certificates() == 0
    assert "certificate.issued" not in actions()


def test_someone_outside_the_cohort_gets_no_certificate(camp, organiser):
    outsider = make_user(name="Outsider")
    camp.complete(outsider, REVIEWED)
    assert progress.of_participant(camp.programme, outsider.id).is_complete
    with pytest.raises(DomainError, match="not in the bootcamp cohort"):
        certificates.issue(camp.programme, outsider, organiser)
    assert count_certificates() == 0


def test_issuing_keeps_what_the_certificate_says_as_of_that_moment(camp, organiser):
    user = camp.participants[0]
    camp.complete(user, REVIEWED)
    with clock.frozen(ISSUED):
        certificate = certificates.issue(camp.programme, user, organiser)
    db.session.commit()
    user.name = "Renamed Later"
    camp.programme.title = "Renamed programme"
    db.session.commit()

    stored = db.session.get(Certificate, certificate.id)
    assert CODE.match(stored.code)
    assert stored.recipient_name == "Participant 1"
    assert stored.programme_title == "Bootcamp for tests"
    assert stored.modules == ["Module one", "Module two", "Project"]
    assert stored.completed_on == date(2026, 6, 2)  # Singapore's date
    assert stored.issued_at == ISSUED
    assert stored.issued_by_id == organiser.id
    assert stored.is_valid
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "certificate.issued")
    )
    assert (event.target_id, event.actor_id) == (stored.id, organiser.id)
    assert event.details["code"] == stored.code


def test_the_completion_date_is_when_the_last_module_was_completed(camp, organiser):
    user = camp.participants[0]
    camp.review(user, at=WHEN - timedelta(days=10))
    later = WHEN + timedelta(days=5)
    make_finished_attempt(user, camp.m1, 90, finished_at=WHEN)
    make_finished_attempt(user, camp.m2, 90, finished_at=later)
    certificate = certificates.issue(camp.programme, user, organiser)
    assert certificate.completed_on == date(2026, 6, 6)


def test_one_valid_certificate_at_a_time_and_a_new_code_after_revoking(camp, organiser):
    user = camp.participants[0]
    camp.complete(user, REVIEWED)
    first = certificates.issue(camp.programme, user, organiser)
    db.session.commit()

    with pytest.raises(Conflict, match=first.code):
        certificates.issue(camp.programme, user, organiser)
    # What a concurrent request that passed the check runs into: the index.
    standing = progress.of_participant(camp.programme, user.id)
    with pytest.raises(Conflict):
        certificates._create(camp.programme, user, standing, organiser, clock.now())
    db.session.commit()  # only the savepoint was rolled back
    assert count_certificates() == 1

    certificates.revoke(first, "Issued with a misspelt name", organiser)
    second = certificates.issue(camp.programme, user, organiser)
    db.session.commit()
    assert second.code != first.code
    assert not db.session.get(Certificate, first.id).is_valid
    assert db.session.get(Certificate, second.id).is_valid


def test_issue_all_issues_once_to_everyone_who_completed(camp, organiser):
    first, second, third = camp.participants
    camp.complete(first, REVIEWED)
    camp.complete(second, REVIEWED)
    camp.pass_modules(third)  # no project review yet
    certificates.issue(camp.programme, first, organiser)
    db.session.commit()

    assert certificates.issue_all(camp.programme, organiser) == 1
    db.session.commit()
    assert certificates.issue_all(camp.programme, organiser) == 0
    holders = set(
        db.session.scalars(
            select(Certificate.user_id).where(Certificate.revoked_at.is_(None))
        )
    )
    assert holders == {first.id, second.id}
    assert actions().count("certificate.issued") == 2

    revoked = certificates.valid_certificate(camp.programme, second.id)
    certificates.revoke(revoked, "Wrong programme title", organiser)
    assert certificates.issue_all(camp.programme, organiser) == 1
    assert count_certificates() == 3


# -- Revoking -----------------------------------------------------------------------


@pytest.fixture
def issued(camp, organiser) -> Certificate:
    camp.complete(camp.participants[0], REVIEWED)
    certificate = certificates.issue(camp.programme, camp.participants[0], organiser)
    db.session.commit()
    return certificate


@pytest.fixture
def held(app) -> Certificate:
    """A certificate as :func:`certificates.issue` leaves it, without a bootcamp
    behind it: revoking and the PDF read only its own record."""
    return make_certificate(completed_on=date(2026, 6, 2))


def test_revoking_needs_a_reason_of_at_most_500_characters(held, organiser):
    for reason, message in (
        (None, "Say why"),
        ("   ", "Say why"),
        ("x" * 501, "Keep the reason to 500 characters."),
    ):
        with pytest.raises(DomainError, match=message) as raised:
            certificates.revoke(held, reason, organiser)
        assert raised.value.field == "reason"
        db.session.rollback()
    assert db.session.get(Certificate, held.id).is_valid
    assert "certificate.revoked" not in actions()


def test_revoking_records_when_by_whom_and_why(held, organiser):
    with clock.frozen(ISSUED + timedelta(days=30)):
        certificates.revoke(held, "  Plagiarised project  ", organiser)
    db.session.commit()
    stored = db.session.get(Certificate, held.id)
    assert stored.revoked_at == ISSUED + timedelta(days=30)
    assert stored.revoked_by_id == organiser.id
    assert stored.revoke_reason == "Plagiarised project"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "certificate.revoked")
    )
    assert event.details["reason"] == "Plagiarised project"


def test_a_revoked_certificate_cannot_be_revoked_again(held, organiser):
    certificates.revoke(held, "First reason", organiser)
    db.session.commit()
    with pytest.raises(Conflict, match="already revoked"):
        certificates.revoke(held, "Second reason", organiser)
    assert db.session.get(Certificate, held.id).revoke_reason == "First reason"


def test_overview_lists_the_cohort_with_completion_and_certificates(
    camp, organiser, issued
):
    camp.complete(camp.participants[1], REVIEWED)
    certificates.revoke(issued, "Misspelt", organiser)
    db.session.commit()
    page = certificates.overview(camp.programme)
    rows = {row.user.name: row for row in page.rows}
    assert [row.user.name for row in page.rows] == [
        "Participant 1",
        "Participant 2",
        "Participant 3",
    ]
    assert (rows["Participant 1"].completed, rows["Participant 1"].total) == (3, 3)
    assert rows["Participant 1"].certificate is None
    assert rows["Participant 1"].may_be_issued
    assert (rows["Participant 3"].completed, rows["Participant 3"].may_be_issued) == (
        0,
        False,
    )
    assert page.due == 2
    assert [(r.certificate.id, r.revoked_by) for r in page.revoked] == [
        (issued.id, "Olga")
    ]


# -- The PDF ------------------------------------------------------------------------


class RecordingPDF(FPDF):
    """An FPDF that notes the text it writes and the filled squares it draws."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.texts: list[str] = []
        self.squares: list[tuple[float, float, float, float]] = []

    def cell(self, *args, **kwargs):
        self.texts.append(args[2] if len(args) > 2 else kwargs.get("text", ""))
        return super().cell(*args, **kwargs)

    def multi_cell(self, *args, **kwargs):
        self.texts.append(args[2] if len(args) > 2 else kwargs.get("text", ""))
        return super().multi_cell(*args, **kwargs)

    def rect(self, x, y, w, h, style=None, *args, **kwargs):
        if style == "F":
            self.squares.append((x, y, w, h))
        return super().rect(x, y, w, h, style, *args, **kwargs)


@pytest.fixture
def recorded(monkeypatch) -> list[RecordingPDF]:
    """Every PDF the certificates module makes, as a :class:`RecordingPDF`."""
    made: list[RecordingPDF] = []

    def make(*args, **kwargs):
        pdf = RecordingPDF(*args, **kwargs)
        made.append(pdf)
        return pdf

    # render_pdf imports FPDF when it runs (fpdf is not loaded by every worker).
    monkeypatch.setattr(fpdf, "FPDF", make)
    return made


@pytest.fixture
def drawn(recorded, held):
    """``held`` rendered: (the recording, the bytes, the verification URL)."""
    url = certificates.verify_url(held.code)
    body = certificates.render_pdf(held, url)
    return recorded[0], body, url


def test_the_pdf_prints_name_programme_modules_dates_code_and_url(drawn, held):
    pdf, body, url = drawn
    # On QUIZAPP_BASE_URL, whatever host the request came in on.
    assert url == f"http://localhost/verify/{held.code}"
    assert body.startswith(b"%PDF-")
    assert (round(pdf.w), round(pdf.h)) == (297, 210)
    assert pdf.pages_count == 1
    printed = "\n".join(pdf.texts)
    for expected in (
        "Participant 1",
        "Bootcamp for tests",
        "Module one  ·  Module two  ·  Project",
        "Completed on 2 June 2026",
        "Issued on 3 June 2026",
        held.code,
        url,
    ):
        assert expected in pdf.texts or expected in printed, expected
    assert "REVOKED" not in pdf.texts
    assert f"/Title (Certificate {held.code})".encode() in body


def test_the_qr_code_drawn_is_segnos_code_of_the_verification_url(drawn):
    pdf, _body, url = drawn
    expected = [
        [bool(cell) for cell in row]
        for row in segno.make(url, error="m").matrix_iter(border=0)
    ]
    size = len(expected)
    module = certificates.QR_SIZE / size
    left = min(x for x, _y, _w, _h in pdf.squares)
    top = min(y for _x, y, _w, _h in pdf.squares)
    seen = [[False] * size for _ in range(size)]
    for x, y, w, h in pdf.squares:
        assert h == pytest.approx(module)
        row, col = round((y - top) / module), round((x - left) / module)
        for offset in range(round(w / module)):
            assert not seen[row][col + offset], "a module drawn twice"
            seen[row][col + offset] = True
    assert seen == expected
    assert sum(map(sum, seen)) == sum(map(sum, expected))


def test_the_same_certificate_gives_the_same_bytes(held):
    url = certificates.verify_url(held.code)
    first = certificates.render_pdf(held, url)
    with clock.frozen(ISSUED + timedelta(days=400)):
        second = certificates.render_pdf(held, url)
    assert first == second
    assert b"/CreationDate (D:20260603100000Z)" in first


def test_a_revoked_certificate_is_stamped_revoked(recorded, held, organiser):
    # 20:00 UTC on 30 June is 1 July in Singapore.
    with clock.frozen(datetime(2026, 6, 30, 20, 0, tzinfo=UTC)):
        certificates.revoke(held, "Misspelt", organiser)
    certificates.render_pdf(held, certificates.verify_url(held.code))
    assert "REVOKED" in recorded[0].texts
    assert "Revoked on 1 July 2026" in recorded[0].texts


def test_latin_greek_and_cyrillic_names_have_every_glyph_and_cjk_is_logged(
    held, caplog
):
    """DejaVu Sans is embedded; what it lacks (CJK, as the fonts' README says) is
    logged by fpdf2 rather than silently dropped."""
    url = certificates.verify_url(held.code)
    held.recipient_name = "Zoë Ångström-Łukasiewicz Ωμέγα Жанна"
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        body = certificates.render_pdf(held, url)
    assert b"/FontFile2" in body
    assert b"DejaVuSans" in body
    assert not [r for r in caplog.records if "missing" in r.getMessage()]

    held.recipient_name = "王小明"
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        certificates.render_pdf(held, url)
    assert any("missing" in r.getMessage() for r in caplog.records)
