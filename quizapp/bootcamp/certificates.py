"""Certificates of completion: issuing them (one by one or to everyone who completed),
revoking them, finding one by its code, and the PDF.

Guarantees:

- A certificate is issued only to a member of the bootcamp cohort who has completed
  every module (:func:`quizapp.bootcamp.progress.of_participant`), and only while
  they hold no valid one; the partial unique index on ``certificates`` enforces the
  second rule against concurrent requests too.
- What a certificate says (name, programme, modules, completion date) is copied at
  issue and never rewritten; revoking marks it, and a new one (new code) may follow.
- Codes come from :mod:`secrets`: 16 symbols of Crockford's base32 (80 bits), shown
  as ``QZ-XXXX-XXXX-XXXX-XXXX``. :func:`normalise_code` accepts any case, spaces or
  dashes, the ``QZ`` prefix or not, and the letters O, I and L for 0, 1 and 1.
- The PDF of one certificate is the same bytes every time (its creation date is the
  issue time), and its QR code is drawn as vector squares from segno's matrix.

Every change writes an audit event in the same transaction; callers commit.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import segno
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from quizapp.accounts.models import User
from quizapp.banks.models import Programme
from quizapp.bootcamp import progress
from quizapp.bootcamp.models import COMPLETED, Certificate
from quizapp.core import audit, clock
from quizapp.core.errors import Conflict, DomainError
from quizapp.extensions import db
from quizapp.programmes.models import SELECTED, SHORTLIST
from quizapp.programmes.services import cohort_ids, selection_of

if TYPE_CHECKING:
    # fpdf (with fontTools and Pillow) is 35 MB resident, in every gunicorn worker
    # if imported here; only the PDF views need it, so render_pdf imports it.
    from fpdf import FPDF

# -- Codes --------------------------------------------------------------------------

CODE_PREFIX = "QZ"
#: Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: 16 symbols of 5 bits: 80 bits from :mod:`secrets`.
CODE_SYMBOLS = 16
GROUP = 4
#: What people type for the symbols Crockford leaves out.
_LOOK_ALIKES = str.maketrans("OIL", "011")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")
#: Longer input is not a code (and is not worth normalising).
CODE_INPUT_MAX = 64
REVOKE_REASON_MAX = 500


def _grouped(symbols: str) -> str:
    groups = [symbols[i : i + GROUP] for i in range(0, len(symbols), GROUP)]
    return "-".join([CODE_PREFIX, *groups])


def new_code() -> str:
    """A fresh code such as ``QZ-7K3M-Q9TX-ZB2H-4RWE``."""
    return _grouped("".join(secrets.choice(ALPHABET) for _ in range(CODE_SYMBOLS)))


def normalise_code(text: str | None) -> str | None:
    """The canonical form of a typed code, or None when it cannot be one."""
    if not text or len(text) > CODE_INPUT_MAX:
        return None
    symbols = _SEPARATORS.sub("", text).upper()
    if len(symbols) == CODE_SYMBOLS + len(CODE_PREFIX) and symbols.startswith(
        CODE_PREFIX
    ):
        symbols = symbols[len(CODE_PREFIX) :]
    symbols = symbols.translate(_LOOK_ALIKES)
    if len(symbols) != CODE_SYMBOLS or any(s not in ALPHABET for s in symbols):
        return None
    return _grouped(symbols)


def find_by_code(text: str | None) -> Certificate | None:
    """The certificate with this code (typed in any accepted form), or None."""
    code = normalise_code(text)
    if code is None:
        return None
    return db.session.scalar(select(Certificate).where(Certificate.code == code))


def verify_url(code: str) -> str:
    """The public verification address of ``code``, on ``QUIZAPP_BASE_URL``.

    Built from the configured public address rather than the request's Host header,
    so a PDF downloaded through an internal name or a forged header still points to
    the real site, and the same certificate always gives the same PDF.
    """
    base = urlsplit(current_app.config["QUIZAPP_BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build("bootcamp.verify", {"code": code}, force_external=True)


# -- Issuing and revoking -----------------------------------------------------------


def valid_certificate(programme: Programme, user_id: int) -> Certificate | None:
    return db.session.scalar(
        select(Certificate).where(
            Certificate.programme_id == programme.id,
            Certificate.user_id == user_id,
            Certificate.revoked_at.is_(None),
        )
    )


def _still_to_do(standing: progress.ParticipantProgress) -> str:
    if not standing.modules:
        return "the programme has no modules"
    parts = []
    for module in standing.modules:
        if module.status != COMPLETED:
            left = "; ".join(module.remaining) or "not completed"
            parts.append(f"{module.module.title} ({left})")
    return ", ".join(parts)


def _create(
    programme: Programme,
    user: User,
    standing: progress.ParticipantProgress,
    actor: Any,
    now: datetime,
) -> Certificate:
    completed_at = standing.completed_at or now
    certificate = Certificate(
        code=new_code(),
        programme_id=programme.id,
        user_id=user.id,
        recipient_name=user.name,
        programme_title=programme.title,
        modules=[module.module.title for module in standing.modules],
        completed_on=clock.to_local(completed_at).date(),
        issued_at=now,
        issued_by_id=getattr(actor, "id", None),
    )
    try:
        # A concurrent request that issued first trips the one-valid index.
        with db.session.begin_nested():
            db.session.add(certificate)
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"{user.name} already has a valid certificate.") from None
    audit.record(
        "certificate.issued",
        "certificate",
        certificate.id,
        actor,
        programme_id=programme.id,
        user_id=user.id,
        code=certificate.code,
    )
    return certificate


def issue(
    programme: Programme, user: User, actor: Any, now: datetime | None = None
) -> Certificate:
    """Issue ``user`` a certificate of ``programme``.

    :raise DomainError: when ``user`` is not in the cohort or has not completed
        every module (the message says what is left).
    :raise Conflict: when they already hold a valid certificate.
    """
    selection = selection_of(programme, SHORTLIST, user.id)
    if selection is None or selection.status != SELECTED:
        raise DomainError(f"{user.name} is not in the bootcamp cohort.")
    standing = progress.of_participant(programme, user.id)
    if not standing.is_complete:
        raise DomainError(
            f"{user.name} has not completed the programme yet. Still to do: "
            f"{_still_to_do(standing)}."
        )
    current = valid_certificate(programme, user.id)
    if current is not None:
        raise Conflict(
            f"{user.name} already has a valid certificate ({current.code}); revoke it "
            "first to issue a new one."
        )
    return _create(programme, user, standing, actor, now or clock.now())


def issue_all(programme: Programme, actor: Any, now: datetime | None = None) -> int:
    """Issue a certificate to every member of the cohort who completed every module
    and holds no valid one; returns how many were issued (0 when run again)."""
    now = now or clock.now()
    cohort = cohort_ids(programme)
    standings = progress.of_participants(programme, cohort)
    holders = set(
        db.session.scalars(
            select(Certificate.user_id).where(
                Certificate.programme_id == programme.id,
                Certificate.revoked_at.is_(None),
            )
        )
    )
    due = [
        user_id
        for user_id in cohort
        if standings[user_id].is_complete and user_id not in holders
    ]
    if not due:
        return 0
    users = db.session.scalars(
        select(User).where(User.id.in_(due)).order_by(User.name, User.id)
    ).all()
    issued = 0
    for user in users:
        try:
            _create(programme, user, standings[user.id], actor, now)
        except Conflict:
            continue  # issued by someone else a moment ago
        issued += 1
    return issued


def revoke(
    certificate: Certificate,
    reason: str | None,
    actor: Any,
    now: datetime | None = None,
) -> None:
    """Mark ``certificate`` revoked; its verification page says so from now on.

    :raise Conflict: when it is already revoked.
    :raise DomainError: (field ``reason``) without a reason, or one over 500
        characters.
    """
    # Two organisers revoking at once: the second waits here and sees the first.
    db.session.refresh(certificate, with_for_update=True)
    if not certificate.is_valid:
        raise Conflict(
            f"Certificate {certificate.code} was already revoked on "
            f"{long_date(certificate.revoked_at)}."
        )
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "Say why the certificate is revoked (kept in the log).", field="reason"
        )
    if len(reason) > REVOKE_REASON_MAX:
        raise DomainError(
            f"Keep the reason to {REVOKE_REASON_MAX} characters.", field="reason"
        )
    certificate.revoked_at = now or clock.now()
    certificate.revoked_by_id = getattr(actor, "id", None)
    certificate.revoke_reason = reason
    audit.record(
        "certificate.revoked",
        "certificate",
        certificate.id,
        actor,
        programme_id=certificate.programme_id,
        user_id=certificate.user_id,
        code=certificate.code,
        reason=reason,
    )
    db.session.flush()


# -- Reading ------------------------------------------------------------------------


def in_programme(programme: Programme, certificate_id: int) -> Certificate | None:
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None or certificate.programme_id != programme.id:
        return None
    return certificate


def of_user(user_id: int) -> list[Certificate]:
    """A person's certificates, valid and revoked, newest first."""
    return list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.user_id == user_id)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
        )
    )


@dataclass(frozen=True)
class CohortRow:
    """One person on the organiser's certificates page."""

    user: User
    completed: int
    total: int
    is_complete: bool
    #: Their valid certificate, if any.
    certificate: Certificate | None
    #: False for someone holding a certificate who has left the cohort since.
    in_cohort: bool

    @property
    def may_be_issued(self) -> bool:
        return self.in_cohort and self.is_complete and self.certificate is None


@dataclass(frozen=True)
class RevokedRow:
    certificate: Certificate
    revoked_by: str | None


@dataclass(frozen=True)
class Overview:
    rows: list[CohortRow]
    revoked: list[RevokedRow]

    @property
    def due(self) -> int:
        return sum(1 for row in self.rows if row.may_be_issued)

    @property
    def cohort(self) -> int:
        return sum(1 for row in self.rows if row.in_cohort)


def overview(programme: Programme) -> Overview:
    """The cohort with completion and certificate state (plus anyone outside it
    who holds a valid certificate), by name; and the revoked certificates, newest
    first."""
    cohort = set(cohort_ids(programme))
    issued = list(
        db.session.scalars(
            select(Certificate)
            .where(Certificate.programme_id == programme.id)
            .order_by(Certificate.revoked_at.desc(), Certificate.id.desc())
        )
    )
    valid = {c.user_id: c for c in issued if c.is_valid}
    ids = sorted(cohort | set(valid))
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    standings = progress.of_participants(programme, ids)
    rows = [
        CohortRow(
            user=users[user_id],
            completed=standings[user_id].completed,
            total=len(standings[user_id].modules),
            is_complete=standings[user_id].is_complete,
            certificate=valid.get(user_id),
            in_cohort=user_id in cohort,
        )
        for user_id in ids
    ]
    rows.sort(key=lambda row: (row.user.name.casefold(), row.user.id))
    revoked = [c for c in issued if not c.is_valid]
    staff_ids = {c.revoked_by_id for c in revoked if c.revoked_by_id}
    names = {
        user_id: name
        for user_id, name in db.session.execute(
            select(User.id, User.name).where(User.id.in_(staff_ids))
        )
    }
    return Overview(
        rows=rows,
        revoked=[RevokedRow(c, names.get(c.revoked_by_id)) for c in revoked],
    )


# -- The PDF ------------------------------------------------------------------------

FONT_DIR = Path(__file__).with_name("fonts")
# fontTools reports every step of subsetting the fonts at INFO: dozens of lines per
# download in the app's log.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)
FAMILY = "DejaVu"
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

PAGE_W, PAGE_H = 297.0, 210.0  # A4 landscape, mm
MARGIN = 18.0
QR_SIZE = 42.0
INK = (33, 37, 41)
MUTED = (108, 117, 125)
ACCENT = (13, 110, 253)
STAMP = (200, 35, 51)


def long_date(day: date | datetime) -> str:
    """``1 June 2026``, whatever the server's locale; a moment (aware UTC) is first
    taken to the app's time zone."""
    if isinstance(day, datetime):
        day = clock.to_local(day)
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


@dataclass(frozen=True)
class CertificateText:
    """Everything the PDF prints, in reading order."""

    name: str
    programme: str
    modules: list[str]
    completed: str
    issued: str
    code: str
    url: str
    #: "Revoked on …" for a revoked certificate, else None.
    revoked: str | None


def certificate_text(certificate: Certificate, url: str) -> CertificateText:
    revoked = None
    if certificate.revoked_at is not None:
        revoked = f"Revoked on {long_date(certificate.revoked_at)}"
    return CertificateText(
        name=certificate.recipient_name,
        programme=certificate.programme_title,
        modules=list(certificate.modules),
        completed=f"Completed on {long_date(certificate.completed_on)}",
        issued=f"Issued on {long_date(certificate.issued_at)}",
        code=certificate.code,
        url=url,
        revoked=revoked,
    )


def qr_matrix(url: str) -> list[list[bool]]:
    """The QR code of ``url`` as rows of dark (True) and light modules, without the
    quiet zone."""
    qr = segno.make(url, error="m", micro=False)
    return [[bool(cell) for cell in row] for row in qr.matrix_iter(border=0)]


def qr_runs(matrix: list[list[bool]]) -> Iterator[tuple[int, int, int]]:
    """``(row, column, length)`` of each horizontal run of dark modules: one
    rectangle per run draws the code without hairline seams between squares."""
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                yield y, start, x - start
            else:
                x += 1


def _draw_qr(pdf: FPDF, url: str, left: float, top: float, size: float) -> None:
    matrix = qr_matrix(url)
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for y, x, length in qr_runs(matrix):
        pdf.rect(
            left + x * module, top + y * module, length * module, module, style="F"
        )


def _fit(pdf: FPDF, text: str, style: str, size: float, width: float) -> None:
    """Set the font at ``size`` points, smaller if ``text`` would be wider."""
    pdf.set_font(FAMILY, style, size)
    while size > 10 and pdf.get_string_width(text) > width:
        size -= 1
        pdf.set_font(FAMILY, style, size)


def _centred(pdf: FPDF, text: str, height: float, width: float) -> None:
    from fpdf import Align, XPos, YPos

    pdf.set_x((PAGE_W - width) / 2)
    pdf.multi_cell(
        width,
        height,
        text,
        align=Align.C,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


def render_pdf(certificate: Certificate, url: str) -> bytes:
    """The certificate as a one-page landscape A4 PDF; a revoked one is stamped
    REVOKED across the page."""
    from fpdf import FPDF, Align, XPos, YPos

    text = certificate_text(certificate, url)
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_creation_date(certificate.issued_at)
    pdf.set_title(f"Certificate {text.code}")
    pdf.set_subject(f"{text.programme}: {text.name}")
    pdf.set_author("quizapp")
    pdf.set_creator("quizapp")
    pdf.set_lang("en")
    pdf.add_font(FAMILY, "", FONT_DIR / "DejaVuSans.ttf")
    pdf.add_font(FAMILY, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
    pdf.set_auto_page_break(False)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN

    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, PAGE_W - 22, PAGE_H - 22)

    pdf.set_text_color(*ACCENT)
    pdf.set_font(FAMILY, "B", 13)
    pdf.set_char_spacing(2)
    pdf.set_y(26)
    _centred(pdf, "CERTIFICATE OF COMPLETION", 8, width)
    pdf.set_char_spacing(0)

    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 12)
    pdf.set_y(42)
    _centred(pdf, "This certifies that", 7, width)
    pdf.set_text_color(*INK)
    _fit(pdf, text.name, "B", 30, width)
    pdf.ln(2)
    _centred(pdf, text.name, 14, width)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 12)
    pdf.ln(2)
    _centred(pdf, "has completed the programme", 7, width)
    pdf.set_text_color(*INK)
    _fit(pdf, text.programme, "B", 20, width)
    pdf.ln(1)
    _centred(pdf, text.programme, 10, width)

    if text.modules:
        pdf.ln(4)
        pdf.set_text_color(*MUTED)
        pdf.set_font(FAMILY, "", 10)
        _centred(pdf, "Modules", 6, width)
        pdf.set_text_color(*INK)
        pdf.set_font(FAMILY, "", 11 if len(text.modules) <= 6 else 9)
        _centred(pdf, "  ·  ".join(text.modules), 6, width - 40)

    qr_left = PAGE_W - MARGIN - 4 - QR_SIZE
    qr_top = PAGE_H - MARGIN - 16 - QR_SIZE
    _draw_qr(pdf, text.url, qr_left, qr_top, QR_SIZE)
    # Below the QR code's quiet zone (four modules), so scanners find its edge.
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "B", 10)
    pdf.set_xy(qr_left - 60, qr_top + QR_SIZE + 4.5)
    pdf.cell(QR_SIZE + 60, 5, text.code, align=Align.R)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 7.5)
    pdf.set_xy(MARGIN, qr_top + QR_SIZE + 9.5)
    pdf.cell(qr_left + QR_SIZE - MARGIN, 4, text.url, align=Align.R)

    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "", 11)
    pdf.set_xy(MARGIN + 6, qr_top + QR_SIZE - 16)
    pdf.cell(120, 6, text.completed, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.cell(120, 6, text.issued, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FAMILY, "", 8)
    pdf.cell(
        150,
        5,
        "Check this certificate at the address under the QR code.",
        new_y=YPos.NEXT,
    )

    if text.revoked is not None:
        _stamp(pdf, text.revoked)
    return bytes(pdf.output())


def _stamp(pdf: FPDF, revoked: str) -> None:
    from fpdf import Align

    pdf.set_text_color(*STAMP)
    pdf.set_draw_color(*STAMP)
    with pdf.rotation(angle=18, x=PAGE_W / 2, y=PAGE_H / 2):
        pdf.set_line_width(1.5)
        pdf.rect(PAGE_W / 2 - 85, PAGE_H / 2 - 22, 170, 40)
        pdf.set_font(FAMILY, "B", 54)
        pdf.set_xy(PAGE_W / 2 - 85, PAGE_H / 2 - 20)
        pdf.cell(170, 24, "REVOKED", align=Align.C)
        pdf.set_font(FAMILY, "B", 14)
        pdf.set_xy(PAGE_W / 2 - 85, PAGE_H / 2 + 5)
        pdf.cell(170, 9, revoked, align=Align.C)


def file_name(certificate: Certificate) -> str:
    """``certificate-<programme>-<code>.pdf``: ASCII only, so no header encoding."""
    slug = certificate.programme.slug if certificate.programme else "programme"
    return f"certificate-{slug}-{certificate.code}.pdf"
