"""Hostile input over HTTP: SQL-injection strings in every search and filter are
matched literally and leave the tables as they were; over-long values, wrong
types, unknown choices, lists for scalars, missing fields and a 100 KB body on
every form (found by walking the POST rules of the URL map) and JSON endpoint
get a 4xx, never a 500, and never a half-written database."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from markupsafe import escape
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from quizapp.accounts import services as account_services
from quizapp.accounts.models import User
from quizapp.core import clock
from quizapp.extensions import db, limiter
from tests.factories import PASSWORD, make_finished_attempt, make_user
from tests.hostile import NUL, SQL, World, build_world, long_text, row_counts

# -- Reading forms the way a browser does ------------------------------------------


@dataclass
class Control:
    name: str
    kind: str  # the input's type, or "textarea" / "select"
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False
    maxlength: int | None = None


@dataclass
class Form:
    action: str
    enctype: str
    controls: list[Control] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def data(self, fill: dict[str, str] | None = None) -> MultiDict:
        """What pressing the form's first named button sends, with ``fill``'s
        values typed into the fields they name (a field ``add-reason`` takes the
        value of ``reason``)."""
        out = MultiDict()
        for c in self.controls:
            if c.kind in ("checkbox", "radio"):
                if c.checked:
                    out.add(c.name, c.value or "on")
            elif c.kind == "select":
                out.add(c.name, c.value or (c.options[0] if c.options else ""))
            elif c.kind != "file":
                out.add(c.name, c.value)
        if self.buttons:
            out.add(*self.buttons[0])
        for key, value in (fill or {}).items():
            for name in list(out.keys()) + [c.name for c in self.controls]:
                if name == key or name.endswith(f"-{key}"):
                    out.setlist(name, [value])
        return out

    @property
    def typed(self) -> list[Control]:
        """The controls a person fills or picks (not hidden, not the token)."""
        seen, out = set(), []
        for c in self.controls:
            if c.name != "csrf_token" and c.name not in seen:
                seen.add(c.name)
                out.append(c)
        return out


class FormReader(HTMLParser):
    """Every ``<form method=post>`` of a page, with its controls; controls outside
    a form that name it with ``form=`` belong to it too."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.by_id: dict[str, Form] = {}
        self.current: Form | None = None
        self.select: Control | None = None
        self.textarea: Control | None = None

    def _owner(self, attrs: dict) -> Form | None:
        if attrs.get("form"):
            return self.by_id.get(attrs["form"])
        return self.current

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() != "post":
                return
            action = a.get("action") or self.page_url
            form = Form(action, a.get("enctype", ""))
            self.forms.append(form)
            if a.get("id"):
                self.by_id[a["id"]] = form
            self.current = form
            return
        if tag == "option" and self.select is not None:
            self.select.options.append(a.get("value", ""))
            if "selected" in a:
                self.select.value = a.get("value", "")
            return
        owner = self._owner(a)
        if owner is None or "name" not in a or "disabled" in a:
            return
        limit = int(a["maxlength"]) if a.get("maxlength", "").isdigit() else None
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                owner.buttons.append((a["name"], a.get("value", "")))
                return
            owner.controls.append(
                Control(
                    a["name"],
                    kind,
                    a.get("value", ""),
                    checked="checked" in a,
                    maxlength=limit,
                )
            )
        elif tag == "button" and a.get("type", "submit") == "submit":
            owner.buttons.append((a["name"], a.get("value", "")))
        elif tag == "textarea":
            self.textarea = Control(a["name"], "textarea", maxlength=limit)
            owner.controls.append(self.textarea)
        elif tag == "select":
            self.select = Control(a["name"], "select")
            owner.controls.append(self.select)

    def handle_data(self, data):
        if self.textarea is not None:
            # (a browser drops the newline that starts a textarea's text)
            start = not self.textarea.value
            self.textarea.value += data.removeprefix("\r\n") if start else data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_on(client, url: str) -> list[Form]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    reader = FormReader(url)
    reader.feed(response.get_data(as_text=True))
    return reader.forms


def endpoint_of(app, url: str, method: str = "POST") -> str | None:
    path = urlsplit(url).path
    try:
        endpoint, _args = app.url_map.bind("localhost").match(path, method=method)
    except HTTPException:
        return None
    return endpoint


# -- The world and who signs in ----------------------------------------------------


@pytest.fixture
def world(app, tmp_path) -> World:
    return build_world(tmp_path, candidates=4)


def signed_in(app, email: str | None):
    """A new client (no cookies), signed in as ``email`` unless it is None."""
    limiter.reset()  # (the walk signs in often; the limits have tests of their own)
    client = app.test_client()
    if email is not None:
        data = {"email": email, "password": PASSWORD}
        response = client.post(
            "/sign-in", data={**data, "csrf_token": _token(client, "/sign-in")}
        )
        assert response.status_code == 302, (email, response.status_code)
    return client


def _token(client, url: str) -> str:
    for form in forms_on(client, url):
        for c in form.controls:
            if c.name == "csrf_token":
                return c.value
    raise AssertionError(f"no CSRF token on {url}")


def who(world: World, role: str | None) -> str | None:
    return {
        None: None,
        "c0": world.candidates[0].email,
        "admin": world.admin.email,
        "judge": world.judge.email,
        "partner": world.partner.email,
    }[role]


def place(world: World, template: str) -> str:
    from quizapp.banks.models import Question

    single = db.session.scalar(db.select(Question).where(Question.key == "single"))
    return template.format(
        c0=world.candidates[0].id,
        c1=world.candidates[1].id,
        company=world.company.id,
        running=world.running.id,
        finished=world.finished.id,
        question=single.id,
        reset_c1=account_services.password_reset_token(world.candidates[1]),
    )


#: Each POST endpoint: who signs in, and the page whose forms post to it.
FORM_CASES = {
    "accounts.change_password": ("c0", "/account/password"),
    "accounts.change_activation": ("admin", "/admin/accounts/{c1}"),
    "accounts.change_role": ("admin", "/admin/accounts/{c1}"),
    "accounts.new_account": ("admin", "/admin/accounts/new"),
    "accounts.sign_in": (None, "/sign-in"),
    "accounts.sign_up": (None, "/sign-up"),
    "accounts.sign_out": ("c0", "/"),
    "delivery.save_all": ("c0", "/attempts/{running}/all"),
    "delivery.save_answer": ("c0", "/attempts/{running}/q/1"),
    "delivery.submit": ("c0", "/attempts/{running}/q/1"),
    "delivery.start": ("c0", "/quizzes/hq"),
    "delivery.accommodations": ("admin", "/staff/quizzes/hq/accommodations"),
    "delivery.revoke_accommodation": ("admin", "/staff/quizzes/hq/accommodations"),
    "delivery.apply_regrade": ("admin", "/staff/quizzes/hq/regrade/{question}"),
    "authoring.new_question": ("admin", "/authoring/banks/hostile/new/single"),
    "authoring.edit_question": (
        "admin",
        "/authoring/banks/hostile/questions/single/edit",
    ),
    "bootcamp.review_project": ("judge", "/judging/hp/project/{c0}"),
    "bootcamp.issue_certificate": ("admin", "/organise/programmes/hp/certificates"),
    "bootcamp.issue_all_certificates": (
        "admin",
        "/organise/programmes/hp/certificates",
    ),
    "bootcamp.revoke_certificate": ("admin", "/organise/programmes/hp/certificates"),
    "bootcamp.project_scores": ("admin", "/organise/programmes/hp/projects"),
    "programmes.finalists": ("admin", "/organise/programmes/hp/finalists"),
    "programmes.shortlist": ("admin", "/organise/programmes/hp/shortlist"),
    "programmes.window": ("admin", "/organise/quizzes/hq/window"),
    "programmes.leaderboard_visibility": ("admin", "/organise/quizzes/hq/leaderboard"),
    "programmes.add_company": ("admin", "/organise/programmes/hp/partners"),
    "programmes.create_partner_account": (
        "admin",
        "/organise/programmes/hp/partners/companies/{company}",
    ),
    "programmes.add_opening": (
        "admin",
        "/organise/programmes/hp/partners/companies/{company}",
    ),
    "programmes.remove_opening": (
        "admin",
        "/organise/programmes/hp/partners/companies/{company}",
    ),
    "programmes.mark_interest": ("partner", "/partner/finalists/{c0}"),
    "programmes.withdraw_interest": ("partner", "/partner/finalists/{c0}"),
    "programmes.consent": ("c0", "/"),
    "accounts.forgot_password": (None, "/password/forgot"),
    "accounts.reset_password": (None, "/password/reset/{reset_c1}"),
    "privacy.request_deletion": ("c0", "/account/data"),
    "privacy.withdraw_deletion": ("c0", "/account/data"),
    "privacy.anonymise_account": ("admin", "/admin/accounts/{c1}"),
}


def _ask_for_deletion(world: World) -> None:
    world.candidates[0].deletion_requested_at = clock.now()
    db.session.commit()


#: What must hold before a case's page shows its form.
PREPARE = {"privacy.withdraw_deletion": _ask_for_deletion}
NEW_PASSWORD = "orbit slide rule scout"
#: What a person would type, so each form is valid but for the one wrong value.
FILL = {
    "accounts.change_password": {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    },
    "accounts.new_account": {
        "name": "New Person",
        "email": "new@example.org",
        "roles": "instructor",
    },
    "accounts.sign_in": {"email": "c0@example.org", "password": PASSWORD},
    "accounts.forgot_password": {"email": "c0@example.org"},
    "accounts.reset_password": {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "privacy.request_deletion": {"password": PASSWORD},
    "accounts.sign_up": {
        "name": "Mallory",
        "email": "mallory@example.org",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        "school": "Hostile University",
        "discipline": "Engineering",
        "graduation_year": "2027",
    },
    "delivery.accommodations": {
        "email": "c2@example.org",
        "extra_minutes": "10",
        "reason": "a reason",
    },
    "authoring.edit_question": {"action": "save", "explanation": "Revised."},
    "authoring.new_question": {
        "action": "save",
        "key": "fresh-question",
        "prompt": "A prompt",
        "choices-0-text": "yes",
        "choices-0-correct": "y",
        "choices-1-text": "no",
    },
    "bootcamp.revoke_certificate": {"reason": "issued by mistake"},
    "programmes.finalists": {"email": "c2@example.org", "reason": "by hand"},
    "programmes.shortlist": {"email": "c2@example.org", "reason": "by hand"},
    "programmes.window": {"reason": "a reason"},
    "programmes.add_company": {"name": "New Company"},
    "programmes.create_partner_account": {
        "name": "New Partner",
        "email": "new-partner@example.org",
    },
    "programmes.add_opening": {"title": "New opening"},
    "programmes.mark_interest": {"note": "a note"},
}
#: Fields the endpoint rightly ignores: the preview's sample number, on a save.
IGNORED = {
    "authoring.new_question": {"sample"},
    "authoring.edit_question": {"sample", "key"},  # (an id never changes)
}
#: Question text has no length limit (the bank files have none either): a long
#: one may be saved, like any other valid value.
MARKDOWN = ("prompt", "explanation", "text", "feedback", "left", "right")
NO_LIMIT = {
    "authoring.new_question": MARKDOWN,
    "authoring.edit_question": MARKDOWN,
}
#: POST endpoints that no page's form posts to: scripts send them (their own cases).
SCRIPT_CASES = {
    "delivery_api.save_answer",
    "delivery_api.page_signal",
    "authoring.upload_asset",
    "authoring.preview",
}

WRONG = {
    "number": "twelve",
    "select": "no-such-choice",
    "radio": "no-such-choice",
    "checkbox": "maybe",
    "hidden": "not-a-number",
    "date": "not-a-date",
    "datetime-local": "31/31/2026 25:61",
    "email": "not an e-mail",
}
TEXTUAL = ("text", "textarea", "email", "password", "search", "url", "tel")


def mutations(form: Form, fill: dict, ignored=frozenset(), no_limit=()):
    """(label, control, data): the form as a person fills it, one thing wrong.
    The values that must be refused come first, while the world is as built;
    then those a form may accept (a value sent twice counts as its first, a
    missing optional field is a valid form) and so may change it."""
    base = form.data(fill)
    controls = [c for c in form.typed if c.kind != "file" and c.name not in ignored]
    unlimited = [c for c in controls if c.name.rsplit("-", 1)[-1] in no_limit]
    for c in controls:
        if c in unlimited:
            continue
        long = base.copy()
        long.setlist(c.name, [long_text(20_000)])
        yield f"{c.name}: 20 000 characters", c, long
        if c.kind in WRONG:
            wrong = base.copy()
            wrong.setlist(c.name, [WRONG[c.kind]])
            yield f"{c.name}: {WRONG[c.kind]!r}", c, wrong
    textual = [c for c in controls if c.kind in TEXTUAL and c not in unlimited]
    if textual:
        body = base.copy()
        body.setlist(textual[0].name, ["x" * 100_000])
        yield f"{textual[0].name}: a 100 KB body", textual[0], body
    for c in unlimited:
        long = base.copy()
        long.setlist(c.name, [long_text(20_000)])
        yield f"{c.name}: 20 000 characters (no limit)", c, long
    for c in controls:
        twice = base.copy()
        twice.setlist(c.name, [base.get(c.name, "") or "a", "b"])
        yield f"{c.name}: sent twice", c, twice
        missing = base.copy()
        missing.poplist(c.name)
        yield f"{c.name}: missing", c, missing
    token = MultiDict({"csrf_token": base.get("csrf_token", "")})
    yield "nothing but the token", None, token


def shows_error_at(text: str, control: Control) -> bool:
    """Whether the page marks ``control`` invalid (the form macro's
    ``aria-invalid``, a list's ``data-errors-for``, or the answer page's alert)."""
    name = re.escape(control.name)
    row = re.fullmatch(r"(\w+-\d+)-\w+", control.name)
    # (in a list of rows, an error may sit on another field of the same row)
    names = rf"{re.escape(row.group(1))}-\w+" if row else name
    marked = re.search(
        rf'<(?:input|select|textarea)(?=[^>]*name="{names}")[^>]*'
        r'(aria-invalid="true"|is-invalid)',
        text,
    )
    listed = re.search(rf'data-errors-for="{name}">\s*<div>', text)
    card = re.search(rf'id="{name.replace("-response", "")}-heading">', text)
    answer = control.name.endswith("response") and (
        'id="answer-error"' in text
        or (card is not None and "alert-danger" in text[card.end() : card.end() + 400])
    )
    return bool(marked or listed or answer)


#: Refused outright, no field to show it next to: hidden fields and buttons carry
#: values the page wrote, so a wrong one is a 400.
BARE = ("hidden",)


def walk(app, world: World, endpoint: str) -> list[str]:
    """Post every mutation of every form on the case's page that posts to
    ``endpoint``; return what went wrong, one line each."""
    role, host = FORM_CASES[endpoint]
    if endpoint in PREPARE:
        PREPARE[endpoint](world)
    url = place(world, host)
    client = signed_in(app, who(world, role))
    forms = [f for f in forms_on(client, url) if endpoint_of(app, f.action) == endpoint]
    assert forms, f"no form on {url} posts to {endpoint}"
    problems = []
    for form in forms:
        cases = ordered(
            form,
            FILL.get(endpoint, {}),
            IGNORED.get(endpoint, set()),
            NO_LIMIT.get(endpoint, ()),
        )
        for label, control, data in cases:
            before = row_counts()
            response = client.post(form.action, data=data)
            status = response.status_code
            changed = {k: v for k, v in row_counts().items() if v != before[k]}
            what = f"{endpoint} {form.action} [{label}] -> {status}"
            if status >= 500:
                problems.append(what)
            elif status not in (301, 302, 303) and changed:
                problems.append(f"{what} and yet wrote {sorted(changed)}")
            elif refused(label, control) and not 400 <= status < 500:
                problems.append(f"{what}: accepted")
            elif (
                status == 422
                and refused(label, control)
                and control.kind not in BARE
                and not shows_error_at(response.get_data(as_text=True), control)
            ):
                problems.append(f"{what}: no error next to the field")
            if endpoint == "accounts.sign_out" and status == 302:
                client = signed_in(app, who(world, role))
    return problems


def ordered(form: Form, fill: dict, ignored, no_limit):
    """The mutations that must be refused first, while the world is as built;
    then those a form may accept, which may change it."""
    cases = list(mutations(form, fill, ignored, no_limit))
    return sorted(cases, key=lambda case: not refused(case[0], case[1]))


def refused(label: str, control: Control | None) -> bool:
    """Mutations that must be refused: too long, the wrong type, 100 KB. (A value
    sent twice counts as its first, as browsers and WTForms agree; a missing
    optional field or unticked box is a valid form.)"""
    if control is None or control.kind == "checkbox" or "no limit" in label:
        return False
    return (
        "characters" in label
        or "100 KB" in label
        or ("'" in label and control.kind in WRONG)
    )


def test_every_post_route_has_a_hostile_case(app):
    posts = {
        rule.endpoint for rule in app.url_map.iter_rules() if "POST" in rule.methods
    }
    assert posts == set(FORM_CASES) | SCRIPT_CASES


@pytest.mark.parametrize("endpoint", sorted(FORM_CASES))
def test_hostile_form_values_get_a_4xx_and_write_nothing(app, world, endpoint):
    assert walk(app, world, endpoint) == []


# -- The page's own buttons --------------------------------------------------------


def closed(world: World) -> bool:
    return world.quiz.closes_at is not None


@pytest.mark.parametrize(
    ("page", "sends", "done"),
    [
        (
            "/organise/programmes/hp/shortlist",
            ("publish-publish", "off"),
            lambda w: w.programme.shortlist_published_at is None,
        ),
        (
            "/organise/quizzes/hq/leaderboard",
            ("public", "off"),
            lambda w: w.quiz.leaderboard_public is False,
        ),
        ("/organise/quizzes/hq/window", ("quick-action", "close"), closed),
    ],
)
def test_toggle_buttons_work_as_the_page_sends_them(app, world, page, sends, done):
    """These forms once sent their value twice, first empty (from ``hidden_tag``),
    so the button did nothing. Posted exactly as the page has them, they act."""
    client = signed_in(app, world.admin.email)
    form = next(
        f for f in forms_on(client, page) if sends[1] in f.data().getlist(sends[0])
    )

    response = client.post(form.action, data=form.data())

    assert response.status_code == 302
    db.session.expire_all()
    assert done(world)


# -- JSON and script-sent endpoints ------------------------------------------------

JSON_BODIES = [
    ("not JSON", "{'response': 0", "application/json"),
    ("a list", "[1, 2, 3]", "application/json"),
    ("a string", '"0"', "application/json"),
    ("null", "null", "application/json"),
    ("a number", "12", "application/json"),
    ("a list as the response", '{"response": [[[]]], "flagged": true}', None),
    ("an object as the response", '{"response": {"$gt": ""}}', None),
    ("a huge number", '{"response": 1e999999}', None),
    ("a string flag", '{"response": 0, "flagged": "yes"}', None),
    ("an unknown choice", '{"response": 99}', None),
    ("a negative choice", '{"response": -1}', None),
    ("100 KB", '{"response": "' + "x" * 100_000 + '"}', None),
    ("deep nesting", '{"response": ' + "[" * 5000 + "]" * 5000 + "}", None),
    ("form-encoded", "response=0", "application/x-www-form-urlencoded"),
]


def test_hostile_json_gets_a_4xx_and_writes_nothing(app, world):
    client = signed_in(app, world.candidates[0].email)
    token = _token(client, f"/attempts/{world.running.id}/q/1")
    answers = f"/api/attempts/{world.running.id}/answers/1"
    problems = []
    for label, body, kind in JSON_BODIES:
        before = row_counts()
        response = client.post(
            answers,
            data=body,
            headers={
                "Content-Type": kind or "application/json",
                "X-CSRFToken": token,
                "Accept": "application/json",
            },
        )
        status = response.status_code
        if not 400 <= status < 500 or row_counts() != before:
            problems.append(f"{label}: {status}")
        elif "error" not in (response.get_json(silent=True) or {}):
            problems.append(f"{label}: {status} without a JSON error")
    assert problems == []


@pytest.mark.parametrize(
    "body",
    [
        '{"kind": ["hidden"], "detail": {"a": 1}}',
        '{"kind": "' + "x" * 100_000 + '", "detail": "' + "y" * 100_000 + '"}',
        '{"kind": null}',
        "[]",
        "not json",
    ],
)
def test_a_hostile_page_signal_is_refused_or_cut_short(app, world, body):
    client = signed_in(app, world.candidates[0].email)
    token = _token(client, f"/attempts/{world.running.id}/q/1")

    response = client.post(
        f"/api/attempts/{world.running.id}/signals",
        data=body,
        headers={"Content-Type": "application/json", "X-CSRFToken": token},
    )

    assert response.status_code < 500
    from quizapp.delivery.models import IntegritySignal

    for signal in db.session.scalars(db.select(IntegritySignal)):
        assert len(signal.kind) <= 32
        assert signal.detail is None or len(signal.detail) <= 300


def test_hostile_uploads_and_previews_get_a_4xx(app, world):
    client = signed_in(app, world.admin.email)
    editor = "/authoring/banks/hostile/questions/single/edit"
    form = next(f for f in forms_on(client, editor) if "edit" in f.action)
    token = form.data().get("csrf_token")
    assets = "/authoring/banks/hostile/assets"
    before = row_counts()
    uploads = [
        ("not an image", b"<script>window.__xss=1</script>", "x.png"),
        ("an SVG with script", b"<svg><script>alert(1)</script></svg>", "x.svg"),
        ("empty", b"", "empty.png"),
    ]
    for label, content, name in uploads:
        response = client.post(
            assets,
            data={"csrf_token": token, "image": (io.BytesIO(content), name)},
            headers={"Accept": "application/json"},
        )
        assert 400 <= response.status_code < 500, label
        assert response.get_json()["error"], label
    response = client.post(assets, data={"csrf_token": token, "image": "a string"})
    assert 400 <= response.status_code < 500
    preview = "/authoring/banks/hostile/preview/single?key=single"
    for label, data in [
        ("sample not a number", {**form.data().to_dict(), "sample": "x" * 20_000}),
        ("nothing", {"csrf_token": token}),
        (
            "a list of prompts",
            MultiDict([("csrf_token", token), ("prompt", "a"), ("prompt", "b")]),
        ),
    ]:
        response = client.post(preview, data=data)
        assert response.status_code < 500, label
        assert response.is_json, label
    response = client.post(
        "/authoring/banks/hostile/preview/single?key=" + "%27" * 50, data=form.data()
    )
    assert response.status_code == 404
    assert row_counts() == before


# -- Searches and filters ----------------------------------------------------------

#: Names that hold what a LIKE pattern or SQL would read as syntax.
LITERAL_NAMES = {
    "%": "Percent 100% Sure",
    "_": "Under_score Person",
    "\\": "Back\\slash Person",
    "' OR 1=1 --": "Quote ' OR 1=1 -- Person",
}


@pytest.fixture
def literal(world) -> dict[str, User]:
    """A candidate per name of :data:`LITERAL_NAMES`, on the screening board."""
    people = {}
    for n, (needle, name) in enumerate(LITERAL_NAMES.items()):
        person = make_user(email=f"literal{n}@example.org", name=name)
        make_finished_attempt(
            person, world.quiz, 50 + n, finished_at=world.finished.finished_at
        )
        people[needle] = person
    return people


SEARCHES = [
    "/admin/accounts?q={}",
    "/organise/quizzes/hq/leaderboard?q={}",
    "/organise/programmes/hp/leaderboard?q={}",
]


@pytest.mark.parametrize("search", SEARCHES)
def test_a_search_matches_its_text_literally(app, world, literal, search):
    client = signed_in(app, world.admin.email)
    before = row_counts()
    refused = client.get(search.format(urlencode_value(NUL)))
    assert refused.status_code == 400
    assert "cannot contain NUL" in refused.get_data(as_text=True)
    for needle in SQL:
        response = client.get(search.format(urlencode_value(needle)))
        assert response.status_code == 200, (needle, response.status_code)
        page = response.get_data(as_text=True)
        shown = {name for name in LITERAL_NAMES.values() if escape(name) in page}
        expected = {
            name for name in LITERAL_NAMES.values() if needle.lower() in name.lower()
        }
        assert shown == expected, needle
    assert row_counts() == before


def test_the_csv_search_matches_its_text_literally(app, world, literal):
    client = signed_in(app, world.admin.email)
    for needle in ("%", "_", "\\", "' OR 1=1 --"):
        response = client.get(
            f"/organise/quizzes/hq/leaderboard.csv?q={urlencode_value(needle)}"
        )
        assert response.status_code == 200, needle
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        names = {row["name"].lstrip("'") for row in rows} & set(LITERAL_NAMES.values())
        expected = {n for n in LITERAL_NAMES.values() if needle in n}
        assert names == expected, needle


def urlencode_value(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


#: Filters with values no page offers: each answers 200 (the filter ignored or
#: empty results), a redirect to a page that exists, or a 4xx; never a 500.
FILTERS = [
    "/admin/accounts?role={}&status={}&page={}",
    "/organise/quizzes/hq/leaderboard?year={}&passed={}&discipline={}",
    "/organise/quizzes/hq/leaderboard?page={}&per_page={}",
    "/organise/quizzes/hq/leaderboard.csv?year={}&passed={}&discipline={}",
    "/organise/programmes/hp/leaderboard?page={}&per_page={}&year={}",
    "/organise/programmes/hp/progress?sort={}",
    "/organise/programmes/hp/progress.csv?sort={}",
    "/staff/quizzes/hq/statistics?attempts={}",
    "/staff/quizzes/hq/statistics/chart.json?attempts={}",
    "/banks/hostile?q={}&type={}&difficulty={}&tag={}&show={}",
    "/banks/hostile/questions/single?v={}&sample={}",
    "/authoring?q={}&bank={}&type={}&tag={}&module={}&show={}",
    "/verify?code={}",
]
JUNK = [
    "' OR 1=1 --",
    "-1",
    "0",
    "99999999999999999999",
    "1e308",
    "NaN",
    "%",
    "\\",
    NUL,
    "x" * 5_000,
]


@pytest.mark.parametrize("template", FILTERS)
def test_unknown_filter_values_never_break_a_page(app, world, template):
    client = signed_in(app, world.admin.email)
    before = row_counts()
    for junk in JUNK:
        value = urlencode_value(junk)
        url = template.format(*[value] * template.count("{}"))
        response = client.get(url)
        status = response.status_code
        assert status in (200, 302) or 400 <= status < 500, (junk, url[:120])
        response.close()
    assert row_counts() == before


def test_a_hostile_next_address_never_leaves_the_site(app, world):
    client = signed_in(app, None)
    token = _token(client, "/sign-in")
    for target in (
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
        "%2F%2Fevil.example",
    ):
        response = client.post(
            f"/sign-in?next={urlencode_value(target)}",
            data={"email": "c0@example.org", "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302, target
        location = urlsplit(response.headers["Location"])
        assert location.netloc in ("", "localhost"), target
        assert location.path.startswith("/"), target
        assert not location.path.startswith("//"), target
        client = signed_in(app, None)
        token = _token(client, "/sign-in")


def test_a_nul_character_anywhere_is_a_400_on_every_database(app, world):
    """PostgreSQL cannot store U+0000 in text or JSON: refused before any view."""
    client = signed_in(app, world.candidates[0].email)
    token = _token(client, f"/attempts/{world.running.id}/q/1")
    before = row_counts()
    responses = [
        client.get("/quizzes/h%00q"),
        client.get(f"/admin/accounts?q={urlencode_value(NUL)}"),
        client.post(
            f"/attempts/{world.running.id}/q/1",
            data={"csrf_token": token, "response": NUL},
        ),
        client.post(
            f"/api/attempts/{world.running.id}/answers/1",
            data='{"response": "a\\u0000b"}',
            headers={"Content-Type": "application/json", "X-CSRFToken": token},
        ),
    ]
    assert [r.status_code for r in responses] == [400] * 4
    assert row_counts() == before
