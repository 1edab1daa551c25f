"""The access matrix: every route of the app and what each kind of visitor gets.

:data:`MATRIX` has one row per endpoint of ``app.url_map`` (``static`` aside) and
one column per actor. Each (endpoint, actor) pair is a test: the actor requests
the route with every method it takes, with URL parameters filled from one world
built for the module (a bootcamp with a cohort, attempts, a certificate, partner
companies), and gets the outcome in the table. A route added without a row, or a
row left for a route that is gone, fails :func:`test_every_route_has_a_row`.

The rules the table holds to: anonymous visitors are sent to sign-in (the JSON
API answers 401); pages of a role one does not hold are 403; other people's
objects are 404, the same as missing ones.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from quizapp.accounts import services as account_services
from quizapp.accounts.models import Role, User
from quizapp.banks.models import Bank, Question
from quizapp.bootcamp import certificates
from quizapp.bootcamp.models import Certificate
from quizapp.core import clock
from quizapp.delivery import services as delivery
from quizapp.delivery.models import Attempt
from quizapp.extensions import db
from quizapp.programmes import partners
from quizapp.programmes import services as programmes
from quizapp.programmes.models import BY_HAND, FINALISTS, SELECTED, Selection
from tests.bootcamp_fixtures import ISSUED, WHEN, make_bootcamp
from tests.conftest import Auth, Forms, _built_app, _serve_test
from tests.factories import make_quiz, make_user

ACTORS = (
    "anonymous",
    "candidate",  # in the bootcamp's cohort, a finalist; owns the objects
    "other_candidate",  # a candidate asking for the candidate's objects
    "instructor",
    "organiser",
    "admin",
    "partner",  # a recruiter of a partner company of the programme
)

#: Reached the view: a 2xx, a redirect that is not to sign-in, or, for a POST
#: (sent with a valid CSRF token and empty or minimal data), the view's own
#: 400/409/422 answer to that data.
OK = "OK"
#: A redirect to ``/sign-in?next=<the page asked for>``.
IN = "SIGN_IN"
# 401 (the JSON API to anonymous callers), 403 and 404: that status.

# fmt: off
MATRIX: dict[str, tuple[str | int, ...]] = {
    # endpoint                              anon cand other instr org admin partner
    "home.index":                            (OK, OK,  OK,  OK,  OK,  OK,  OK),
    # accounts
    "accounts.sign_up":                      (OK, OK,  OK,  OK,  OK,  OK,  OK),
    "accounts.sign_in":                      (OK, OK,  OK,  OK,  OK,  OK,  OK),
    "accounts.sign_out":                     (IN, OK,  OK,  OK,  OK,  OK,  OK),
    "accounts.change_password":              (IN, OK,  OK,  OK,  OK,  OK,  OK),
    "accounts.forgot_password":              (OK, OK,  OK,  OK,  OK,  OK,  OK),
    "accounts.reset_password":               (OK, OK,  OK,  OK,  OK,  OK,  OK),
    "accounts.list_accounts":                (IN, 403, 403, 403, 403, OK,  403),
    "accounts.new_account":                  (IN, 403, 403, 403, 403, OK,  403),
    "accounts.show_account":                 (IN, 403, 403, 403, 403, OK,  403),
    "accounts.change_role":                  (IN, 403, 403, 403, 403, OK,  403),
    "accounts.change_activation":            (IN, 403, 403, 403, 403, OK,  403),
    # banks
    "banks.index":                           (IN, 403, 403, OK,  OK,  OK,  403),
    "banks.bank":                            (IN, 403, 403, OK,  OK,  OK,  403),
    "banks.question":                        (IN, 403, 403, OK,  OK,  OK,  403),
    "banks.asset":                           (IN, OK,  404, OK,  OK,  OK,  404),
    # delivery: the candidate's pages
    "delivery.dashboard":                    (IN, OK,  OK,  403, 403, 403, 403),
    "delivery.intro":                        (IN, OK,  OK,  403, 403, 403, 403),
    "delivery.start":                        (IN, OK,  OK,  403, 403, 403, 403),
    "delivery.resume":                       (IN, OK,  404, 403, 403, 403, 403),
    "delivery.question":                     (IN, OK,  404, 403, 403, 403, 403),
    "delivery.save_answer":                  (IN, OK,  404, 403, 403, 403, 403),
    "delivery.all_questions":                (IN, OK,  404, 403, 403, 403, 403),
    "delivery.save_all":                     (IN, OK,  404, 403, 403, 403, 403),
    "delivery.review":                       (IN, OK,  404, 403, 403, 403, 403),
    "delivery.submit":                       (IN, OK,  404, 403, 403, 403, 403),
    "delivery.result":                       (IN, OK,  404, 403, 403, 403, 403),
    # delivery: staff
    "delivery.regrade_index":                (IN, 403, 403, OK,  OK,  OK,  403),
    "delivery.regrade_dry_run":              (IN, 403, 403, OK,  OK,  OK,  403),
    "delivery.apply_regrade":                (IN, 403, 403, OK,  OK,  OK,  403),
    "delivery.quiz_attempts":                (IN, 403, 403, OK,  OK,  OK,  403),
    "delivery.attempt_detail":               (IN, 403, 403, OK,  OK,  OK,  403),
    "delivery.accommodations":               (IN, 403, 403, 403, OK,  OK,  403),
    "delivery.revoke_accommodation":         (IN, 403, 403, 403, OK,  OK,  403),
    # delivery: the attempt page's JSON
    "delivery_api.attempt_state":            (401, OK, 404, 403, 403, 403, 403),
    "delivery_api.save_answer":              (401, OK, 404, 403, 403, 403, 403),
    "delivery_api.page_signal":              (401, OK, 404, 403, 403, 403, 403),
    # programmes: partners
    "programmes.list_partners":              (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.add_company":                (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.show_company":               (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.add_opening":                (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.remove_opening":             (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.create_partner_account":     (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.export_finalists":           (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.show_finalist_profile":      (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.partner_finalists":          (IN, 403, 403, 403, 403, 403, OK),
    "programmes.partner_finalist":           (IN, 403, 403, 403, 403, 403, OK),
    "programmes.mark_interest":              (IN, 403, 403, 403, 403, 403, OK),
    "programmes.withdraw_interest":          (IN, 403, 403, 403, 403, 403, OK),
    # programmes: dashboards, leaderboards, lists, windows
    "programmes.index":                      (IN, 403, 403, OK,  OK,  OK,  403),
    "programmes.dashboard":                  (IN, 403, 403, OK,  OK,  OK,  403),
    "programmes.score_chart":                (IN, 403, 403, OK,  OK,  OK,  403),
    "programmes.module_chart":               (IN, 403, 403, OK,  OK,  OK,  403),
    "programmes.quiz_leaderboard":           (IN, 403, 403, OK,  OK,  OK,  403),
    "programmes.programme_leaderboard":      (IN, 403, 403, OK,  OK,  OK,  403),
    "programmes.quiz_leaderboard_csv":       (IN, 403, 403, OK,  OK,  OK,  403),
    "programmes.programme_leaderboard_csv":  (IN, 403, 403, OK,  OK,  OK,  403),
    "programmes.leaderboard_visibility":     (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.public_leaderboard":         (IN, OK,  OK,  OK,  OK,  OK,  403),
    "programmes.shortlist":                  (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.finalists":                  (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.window":                     (IN, 403, 403, 403, OK,  OK,  403),
    "programmes.consent":                    (IN, OK,  404, 403, 403, 403, 403),
    # statistics
    "statistics.quiz_statistics":            (IN, 403, 403, OK,  OK,  OK,  403),
    "statistics.scatter_chart":              (IN, 403, 403, OK,  OK,  OK,  403),
    # authoring
    "authoring.index":                       (IN, 403, 403, OK,  403, OK,  403),
    "authoring.choose_type":                 (IN, 403, 403, OK,  403, OK,  403),
    "authoring.new_question":                (IN, 403, 403, OK,  403, OK,  403),
    "authoring.edit_question":               (IN, 403, 403, OK,  403, OK,  403),
    "authoring.preview":                     (IN, 403, 403, OK,  403, OK,  403),
    "authoring.upload_asset":                (IN, 403, 403, OK,  403, OK,  403),
    "authoring.draft_asset":                 (IN, 403, 403, OK,  403, OK,  403),
    # bootcamp: certificates
    "bootcamp.manage_certificates":          (IN, 403, 403, 403, OK,  OK,  403),
    "bootcamp.issue_certificate":            (IN, 403, 403, 403, OK,  OK,  403),
    "bootcamp.issue_all_certificates":       (IN, 403, 403, 403, OK,  OK,  403),
    "bootcamp.revoke_certificate":           (IN, 403, 403, 403, OK,  OK,  403),
    "bootcamp.my_certificates":              (IN, OK,  OK,  OK,  OK,  OK,  OK),
    "bootcamp.download_certificate":         (IN, OK,  404, OK,  OK,  OK,  404),
    "bootcamp.verify_form":                  (OK, OK,  OK,  OK,  OK,  OK,  OK),
    "bootcamp.verify":                       (OK, OK,  OK,  OK,  OK,  OK,  OK),
    # bootcamp: judging
    "bootcamp.judge_projects":               (IN, 403, 403, OK,  403, OK,  403),
    "bootcamp.judge_module":                 (IN, 403, 403, OK,  403, OK,  403),
    "bootcamp.review_project":               (IN, 403, 403, OK,  403, OK,  403),
    "bootcamp.project_scores":               (IN, 403, 403, 403, OK,  OK,  403),
    # bootcamp: progress
    "bootcamp.my_progress":                  (IN, OK,  404, 404, 404, 404, 404),
    "bootcamp.cohort_grid":                  (IN, 403, 403, OK,  OK,  OK,  403),
    "bootcamp.cohort_csv":                   (IN, 403, 403, OK,  OK,  OK,  403),
    "bootcamp.participant":                  (IN, 403, 403, OK,  OK,  OK,  403),
    "privacy.show_data":                     (IN, OK,  OK,  OK,  OK,  OK,  OK),
    "privacy.download_data":                 (IN, OK,  OK,  OK,  OK,  OK,  OK),
    "privacy.request_deletion":              (IN, OK,  OK,  OK,  OK,  OK,  OK),
    "privacy.withdraw_deletion":             (IN, OK,  OK,  OK,  OK,  OK,  OK),
    "privacy.anonymise_account":             (IN, 403, 403, 403, 403, OK,  403),
    "privacy.audit_log":                     (IN, 403, 403, 403, 403, OK,  403),
}
# fmt: on

#: URL parameters that are not the world's default for their name (see
#: :func:`view_args`), as the name of a :class:`World` field (``<name>_by_actor``
#: when each allowed actor needs an object of its own).
OVERRIDES: dict[str, dict[str, str]] = {
    "delivery.start": {"slug": "start_quiz"},
    "delivery.submit": {"attempt_id": "submit_attempt"},
    "delivery.result": {"attempt_id": "finished_attempt"},
    "programmes.remove_opening": {"opening_id": "spare_opening"},
    "delivery.revoke_accommodation": {"accommodation_id": "accommodation"},
}

#: Form fields (the JSON body, for the API) of POSTs whose success must leave the
#: world as it was (the leaderboard stays public, the consent given, the project
#: scores unpublished), or which would be refused without them.
DATA: dict[str, dict[str, str]] = {
    "programmes.leaderboard_visibility": {"public": "on"},
    "programmes.consent": {"give": "yes"},
    "bootcamp.project_scores": {"publish": "off"},
    "delivery_api.page_signal": {"kind": "focus_lost"},
}

#: The message of the app's CSRF refusal (quizapp/core/errors.py).
CSRF_REFUSAL = "The form had expired or did not come from this site"


@dataclass
class World:
    """Ids and names of what the module's requests point at. ``*_by_actor`` hold
    one object per actor allowed to destroy it (an organiser's and an admin's
    opening to remove and accommodation to revoke), so each finds one."""

    emails: dict[str, str]
    candidate: int
    programme: str
    project: str
    quiz: str
    start_quiz: str
    bank: str
    question_key: str
    question: int
    version: int
    asset_path: str
    running_attempt: int
    submit_attempt: int
    finished_attempt: int
    certificate: int
    code: str
    company: int
    opening: int
    spare_opening_by_actor: dict[str, int]
    accommodation_by_actor: dict[str, int]

    def value(self, name: str, actor: str):
        """Field ``name``, or ``actor``'s entry of ``<name>_by_actor`` (the first
        entry for the actors who may not destroy it anyway)."""
        by_actor = getattr(self, f"{name}_by_actor", None)
        if by_actor is not None:
            return by_actor.get(actor, next(iter(by_actor.values())))
        return getattr(self, name)


def view_args(world: World, rule, actor: str) -> dict:
    """The rule's URL parameters: by name (``slug`` by the kind of thing the rule
    is about), then :data:`OVERRIDES`."""
    slug = (
        world.bank
        if rule.rule.startswith(("/banks/", "/authoring/"))
        else world.quiz
        if "quizzes/<slug>" in rule.rule
        else world.programme
    )
    defaults = {
        "slug": slug,
        "programme_slug": world.programme,
        "module_slug": world.project,
        "user_id": world.candidate,
        "key": world.question_key,
        "kind": "single",
        "version_id": world.version,
        "path": world.asset_path,
        "attempt_id": world.running_attempt,
        "position": 1,
        "question_id": world.question,
        "company_id": world.company,
        "opening_id": world.opening,
        "certificate_id": world.certificate,
        "code": world.code,
    }
    if "token" in rule.arguments:
        # A live reset link of the candidate's (the page refuses any other).
        candidate = db.session.get(User, world.candidate)
        defaults["token"] = account_services.password_reset_token(candidate)
    overrides = {
        name: world.value(attribute, actor)
        for name, attribute in OVERRIDES.get(rule.endpoint, {}).items()
    }
    values = {**defaults, **overrides}
    unknown = sorted(rule.arguments - values.keys())
    assert not unknown, (
        f"{rule.endpoint}: no value for URL parameter(s) {unknown}; "
        "add them to view_args or OVERRIDES"
    )
    return {name: values[name] for name in rule.arguments}


# -- The world ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix_app(database_url: str) -> Iterator[Flask]:
    """The app, its tables emptied after the module rather than after each test:
    the world is built once for the module's few hundred requests."""
    yield from _serve_test(_built_app(database_url, {}))


@pytest.fixture(scope="module")
def world(matrix_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("matrix")
    camp = make_bootcamp(folder, participants=2)
    candidate, classmate = camp.participants
    # The attempt pages' quiz holds the every-type bank's question with an image;
    # the quiz others may start does not, so starting one shows nobody the image.
    quiz = make_quiz(folder, "mx", time_limit=None)
    start_quiz = make_quiz(folder, "mx-open", time_limit=None, keys=("tf-sky",))
    submit_quiz = make_quiz(folder, "mx-submit", time_limit=None, keys=("tf-sky",))
    quiz.leaderboard_public = True
    emails = {"candidate": candidate.email}
    users = {}
    for actor, roles in (
        ("other_candidate", (Role.candidate,)),
        ("instructor", (Role.instructor,)),
        ("organiser", (Role.organiser,)),
        ("admin", (Role.admin,)),
        ("partner", (Role.partner,)),
    ):
        users[actor] = make_user(email=f"{actor}@example.org", roles=roles)
        emails[actor] = users[actor].email

    programme = camp.programme
    db.session.add(
        Selection(
            programme_id=programme.id,
            stage=FINALISTS,
            user_id=candidate.id,
            status=SELECTED,
            source=BY_HAND,
            reason="access matrix",
        )
    )
    programme.finalists_published_at = WHEN
    db.session.flush()
    programmes.set_consent(programme, candidate, True)
    company = partners.add_company(programme, "Acme Robotics", None, actor=None)
    opening = partners.add_opening(company, "Vision engineer", "job", None, actor=None)
    spares = {
        actor: partners.add_opening(company, f"Spare {actor}", "job", None, None).id
        for actor in ("organiser", "admin")
    }
    partners.link_partner(company, users["partner"], actor=None)
    partners.mark_interest(opening, candidate, "Strong", actor=users["partner"])

    now = clock.now()
    running = delivery.start_attempt(candidate, quiz, now)
    to_submit = delivery.start_attempt(candidate, submit_quiz, now)
    accommodations = {
        actor: delivery.grant_accommodation(
            user, quiz=quiz, extra_minutes=5, now=now
        ).id
        for actor, user in (
            ("organiser", classmate),
            ("admin", users["other_candidate"]),
        )
    }
    certificate = Certificate(
        code=certificates.new_code(),
        programme_id=programme.id,
        user_id=candidate.id,
        recipient_name=candidate.name,
        programme_title=programme.title,
        modules=["Module one", "Module two", "Project"],
        completed_on=date(2026, 6, 1),
        issued_at=ISSUED,
    )
    db.session.add(certificate)
    db.session.commit()

    bank = db.session.scalar(select(Bank).where(Bank.slug == "every-type"))
    question = db.session.scalar(
        select(Question).where(
            Question.bank_id == bank.id, Question.key == "single-capital"
        )
    )
    finished = db.session.scalar(
        select(Attempt.id).where(
            Attempt.user_id == candidate.id, Attempt.quiz_id == camp.screening.id
        )
    )
    return World(
        emails=emails,
        candidate=candidate.id,
        programme=programme.slug,
        project=camp.project.slug,
        quiz=quiz.slug,
        start_quiz=start_quiz.slug,
        bank=bank.slug,
        question_key=question.key,
        question=question.id,
        version=question.current_version.id,
        asset_path="assets/figure.svg",
        running_attempt=running.id,
        submit_attempt=to_submit.id,
        finished_attempt=finished,
        certificate=certificate.id,
        code=certificate.code,
        company=company.id,
        opening=opening.id,
        spare_opening_by_actor=spares,
        accommodation_by_actor=accommodations,
    )


class Visitor:
    """One actor's browser: a client (signed in unless anonymous) and the CSRF
    token of its session."""

    def __init__(self, app: Flask, world: World, actor: str):
        self.client: FlaskClient = app.test_client()
        self.forms = Forms(self.client)
        self.is_anonymous = actor == "anonymous"
        if not self.is_anonymous:
            signed_in = Auth(self.forms).sign_in(world.emails[actor])
            assert signed_in.status_code == 302, f"{actor} could not sign in"

    @functools.cached_property
    def token(self) -> str:
        return self.forms.token(
            "/sign-in" if self.is_anonymous else "/account/password"
        )

    def send(self, method: str, url: str, endpoint: str, token: bool = True):
        headers = {"X-CSRFToken": self.token} if token else {}
        if method == "GET":
            return self.client.get(url)
        data = dict(DATA.get(endpoint, {}))
        if endpoint.startswith("delivery_api."):
            return self.client.post(url, json=data, headers=headers)
        if token:
            data["csrf_token"] = self.token
        return self.client.post(url, data=data, headers=headers)


@pytest.fixture(scope="module")
def visitors(matrix_app: Flask, world: World) -> dict[str, Visitor]:
    """A signed-in browser per actor, kept for the module (anonymous visitors and
    signing out get a fresh one each time: see :func:`visitor_for`)."""
    return {
        actor: Visitor(matrix_app, world, actor)
        for actor in ACTORS
        if actor != "anonymous"
    }


def visitor_for(app, world, visitors, actor: str, endpoint: str) -> Visitor:
    # Anonymous visitors collect a flashed "sign in" message per redirect, which
    # would outgrow the session cookie; signing out ends the session.
    if actor == "anonymous" or endpoint == "accounts.sign_out":
        return Visitor(app, world, actor)
    return visitors[actor]


def outcome_of(response, method: str, url: str) -> str | int:
    """What the actor got, in the table's terms."""
    status = response.status_code
    if 300 <= status < 400:
        target = urlsplit(response.headers["Location"])
        sent_back = parse_qs(target.query).get("next")
        if target.path == "/sign-in" and sent_back is not None:
            return IN if sent_back == [url] else f"sign-in, then {sent_back}"
        return OK
    if 200 <= status < 300:
        return OK
    if status == 400 and CSRF_REFUSAL in response.get_data(as_text=True):
        return "400 (CSRF token refused)"
    if method == "POST" and status in (400, 409, 422):
        return OK
    return status


def rule_of(app: Flask, endpoint: str):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint]
    assert len(rules) == 1, f"{endpoint}: {len(rules)} rules in app.url_map"
    return rules[0]


# -- The tests ----------------------------------------------------------------------


def test_every_route_has_a_row(matrix_app: Flask):
    endpoints = {r.endpoint for r in matrix_app.url_map.iter_rules()} - {"static"}

    missing = sorted(endpoints - MATRIX.keys())
    gone = sorted(MATRIX.keys() - endpoints)

    assert not missing, f"routes without a row in MATRIX: {missing}"
    assert not gone, f"rows in MATRIX for routes that no longer exist: {gone}"
    assert {len(row) for row in MATRIX.values()} == {len(ACTORS)}
    assert OVERRIDES.keys() <= MATRIX.keys()
    assert DATA.keys() <= MATRIX.keys()


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_access(matrix_app, world, visitors, endpoint: str, actor: str):
    expected = MATRIX[endpoint][ACTORS.index(actor)]
    rule = rule_of(matrix_app, endpoint)
    with matrix_app.test_request_context():
        url = url_for(endpoint, **view_args(world, rule, actor))
    visitor = visitor_for(matrix_app, world, visitors, actor, endpoint)

    mismatches = []
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        response = visitor.send(method, url, endpoint)
        got = outcome_of(response, method, url)
        if got != expected:
            mismatches.append(
                f"{method} {url} ({endpoint}) as {actor}: expected {expected}, "
                f"got {got} (HTTP {response.status_code})"
            )

    assert not mismatches, "\n".join(mismatches)


#: Per blueprint with POST routes: one such route and an actor allowed to use it.
#: Each answers a tokened POST of empty data with a page of its own (not 400), so
#: the 400 below can only be the token's refusal.
CSRF_PROBES = {
    "accounts": ("accounts.change_password", "candidate"),
    "authoring": ("authoring.new_question", "instructor"),
    "bootcamp": ("bootcamp.review_project", "instructor"),
    "delivery": ("delivery.save_all", "candidate"),
    "delivery_api": ("delivery_api.page_signal", "candidate"),
    "programmes": ("programmes.add_company", "organiser"),
    "privacy": ("privacy.request_deletion", "candidate"),
}


def test_every_blueprint_with_posts_has_a_csrf_probe(matrix_app: Flask):
    posting = {
        rule.endpoint.split(".")[0]
        for rule in matrix_app.url_map.iter_rules()
        if "POST" in rule.methods
    }

    assert posting == CSRF_PROBES.keys()


@pytest.mark.parametrize("blueprint", sorted(CSRF_PROBES))
def test_a_post_without_its_csrf_token_is_refused(
    matrix_app, world, visitors, blueprint: str
):
    endpoint, actor = CSRF_PROBES[blueprint]
    rule = rule_of(matrix_app, endpoint)
    with matrix_app.test_request_context():
        url = url_for(endpoint, **view_args(world, rule, actor))
    visitor = visitors[actor]

    refused = visitor.send("POST", url, endpoint, token=False)
    accepted = visitor.send("POST", url, endpoint)

    assert refused.status_code == 400
    assert CSRF_REFUSAL in refused.get_data(as_text=True)
    assert accepted.status_code != 400
    assert outcome_of(accepted, "POST", url) == OK
