"""Hostile text in every field a person controls is shown as text, never run.

The world of ``tests/hostile.py`` puts a script payload in candidates' names and
schools, staff names, the question bank (prompts, choices, feedback,
explanations, items, pairs), quiz, section, programme, module and rubric titles,
the judge's comment, list reasons, company and opening names, a partner's note,
an accommodation reason and a user agent; here a candidate also signs up with
one, and an instructor uploads an image under a hostile file name. Then each
role visits every page that shows them.

The pages are read in a browser context with ``bypass_csp=True``: the app's
Content-Security-Policy would block inline script anyway, so with it on, a page
that echoed a payload unescaped could still pass. Without it, a page passes only
when its output is escaped or sanitised: no payload set ``window.__xss``, no
dialog opened, and the DOM holds no element the payloads would inject (no
``on*`` attribute, no ``javascript:``/``data:`` address, no inline or foreign
``<script>``, no ``img[src=x]``, ``iframe``, ``svg`` or ``style``). The last
test reads the heaviest pages once with the policy on and finds no violation.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from quizapp.banks.models import Question
from quizapp.extensions import db
from tests.factories import PASSWORD
from tests.hostile import CORPUS, MARKER, XSS, build_world

pytestmark = pytest.mark.browser

#: What the payloads would leave in the DOM, as descriptions of the elements.
INJECTED = """() => {
  const found = [];
  const own = location.origin + "/static/";
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const value = attr.value.trim().toLowerCase();
      if (attr.name.startsWith("on")
          || (["href", "src", "action", "formaction", "xlink:href"].includes(attr.name)
              && (value.startsWith("javascript:") || value.startsWith("data:")))) {
        found.push(el.tagName + " " + attr.name + "=" + attr.value);
      }
    }
    const tag = el.tagName.toLowerCase();
    if (tag === "script" && !(el.src && el.src.startsWith(own))) {
      found.push("script " + (el.src || el.textContent.slice(0, 60)));
    }
    if (["iframe", "svg", "style", "object", "embed", "base"].includes(tag)) {
      found.push(tag);
    }
    if (tag === "img" && /\\/x$/.test(el.src)) found.push("img src=x");
  }
  return found;
}"""

#: A CSP violation, recorded by the page itself (the policy-on test).
CSP_LISTENER = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""

#: A tiny valid PNG (1x1, transparent).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class Visitor:
    """A browser context without CSP that checks every page it opens."""

    def __init__(self, browser, base_url: str):
        self.context = browser.new_context(bypass_csp=True, base_url=base_url)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.context.clear_cookies()
        self.page.goto("/sign-in")
        self.page.get_by_label("E-mail").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(
            self.page.get_by_role("heading", name=re.compile("^Hello, "))
        ).to_be_visible()

    def check(self, url: str | None = None, shows: str = MARKER) -> None:
        """Open ``url`` (or stay on the page), see ``shows`` as text, and find
        no trace of a payload having run or of an injected element."""
        page = self.page
        if url is not None:
            response = page.goto(url)
            assert response is not None, url
            assert response.status == 200, (url, response.status)
        page.wait_for_load_state("load")
        where = url or page.url
        assert page.evaluate(f"window.{MARKER}") is None, f"a payload ran on {where}"
        assert self.dialogs == [], f"a dialog opened on {where}"
        assert page.evaluate(INJECTED) == [], f"injected elements on {where}"
        assert self.errors == [], f"script errors on {where}: {self.errors}"
        expect(page.locator("body")).to_contain_text(shows)

    def close(self) -> None:
        # No request of this page may still run when the test's tables are
        # emptied (on PostgreSQL the two can deadlock).
        self.page.wait_for_load_state("networkidle")
        self.context.close()


@pytest.fixture
def world(app, tmp_path):
    return build_world(tmp_path)


@pytest.fixture
def visitor(browser, live_server):
    visitor = Visitor(browser, live_server)
    yield visitor
    visitor.close()


def test_a_hostile_sign_up_is_shown_back_as_text(visitor, world):
    page = visitor.page
    page.goto("/sign-up")
    name, school = XSS[2], XSS[8]
    page.get_by_label("Full name").fill(name)
    page.get_by_label("E-mail").fill("mallory@example.org")
    page.get_by_label("Password", exact=True).fill("orbit slide rule scout")
    page.get_by_label("Repeat the password").fill("something else entirely")
    page.get_by_label("School or employer").fill(school)
    page.get_by_label("Discipline").select_option(index=1)
    page.get_by_label("Graduation year").fill("2027")
    page.get_by_role("button", name="Create account").click()

    # Sent back with an error: the payloads are the inputs' values, nothing more.
    expect(page.get_by_label("Full name")).to_have_value(name)
    expect(page.get_by_label("School or employer")).to_have_value(school)
    visitor.check(shows="Create")
    page.get_by_label("Repeat the password").fill("orbit slide rule scout")
    page.get_by_label("Password", exact=True).fill("orbit slide rule scout")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=f"Hello, {name}")).to_be_visible()
    visitor.check(shows=name)

    visitor.sign_in(world.admin.email)
    visitor.check("/admin/accounts?q=mallory", shows=name)
    page.get_by_role("link", name=name).click()
    visitor.check(shows=school)


def test_an_image_with_a_hostile_file_name_is_stored_under_a_safe_name(visitor, world):
    page = visitor.page
    visitor.sign_in(world.judge.email)
    page.goto("/authoring/banks/hostile/questions/single/edit")
    page.locator("input[name=image]").set_input_files(
        {
            "name": "\"><img src=x onerror='window.__xss=40'>.png",
            "mimeType": "image/png",
            "buffer": PNG,
        }
    )
    page.get_by_role("button", name="Upload image").click()
    status = page.locator("[data-upload-status]")
    expect(status).not_to_have_text(re.compile(r"^(|Uploading\.\.\.)$"))
    expect(status).not_to_have_class(re.compile("text-danger"))
    prompt = page.get_by_label("Prompt", exact=True)
    expect(prompt).to_have_value(re.compile(r"!\[[^\]]*\]\([^)<>\"']+\.png\)"))
    visitor.check(shows="window.__xss")


def test_every_page_shows_the_hostile_text_as_text(visitor, world):
    c0 = world.candidates[0]
    finished, running = world.finished.id, world.running.id
    questions = db.session.scalars(db.select(Question).order_by(Question.key)).all()
    pages = {
        c0.email: [
            ("/", c0.name),
            ("/quizzes", MARKER),
            ("/quizzes/hq", "Screening <script>"),
            ("/quizzes/hq/leaderboard", c0.name),
            (f"/attempts/{finished}/result", CORPUS[-1]),
            (f"/attempts/{finished}/review", XSS[0]),
            (f"/attempts/{running}/q/1", XSS[0]),
            (f"/attempts/{running}/q/2", MARKER),
            (f"/attempts/{running}/all", XSS[1]),
            ("/programmes/hp/progress", "Project <script>"),
            ("/certificates", "programme"),
            (f"/verify/{world.certificate.code}", c0.name),
        ],
        world.admin.email: [
            ("/admin/accounts", c0.name),
            (f"/admin/accounts/{c0.id}", c0.school),
            ("/banks", "bank"),
            ("/banks/hostile", XSS[0]),
            *[(f"/banks/hostile/questions/{q.key}", MARKER) for q in questions],
            ("/banks/hostile/questions/single?sample=3", XSS[1]),
            ("/authoring", "bank"),
            ("/authoring/banks/hostile/questions/single/edit", XSS[3]),
            ("/authoring/banks/hostile/questions/matching/edit", MARKER),
            ("/staff/quizzes/hq/attempts", c0.name),
            (f"/staff/attempts/{finished}", c0.name),
            ("/staff/quizzes/hq/accommodations", XSS[7]),
            ("/staff/quizzes/hq/statistics", MARKER),
            ("/staff/quizzes/hq/regrade", MARKER),
            *[
                (f"/staff/quizzes/hq/regrade/{q.id}", MARKER)
                for q in questions
                if q.key in ("single", "ordering")
            ],
        ],
        world.organiser.email: [
            ("/organise", MARKER),
            ("/organise/programmes/hp", MARKER),
            ("/organise/quizzes/hq/leaderboard", c0.name),
            ("/organise/programmes/hp/leaderboard", c0.school),
            ("/organise/programmes/hp/shortlist", CORPUS[-1]),
            ("/organise/programmes/hp/finalists", c0.name),
            (f"/organise/programmes/hp/finalists/{c0.id}", c0.name),
            (f"/organise/programmes/hp/participants/{c0.id}", XSS[4]),
            ("/organise/programmes/hp/progress", c0.name),
            ("/organise/programmes/hp/projects", c0.name),
            ("/organise/programmes/hp/certificates", c0.name),
            ("/organise/programmes/hp/partners", world.company.name),
            (
                f"/organise/programmes/hp/partners/companies/{world.company.id}",
                world.opening.title,
            ),
            ("/organise/quizzes/hq/window", XSS[8]),
        ],
        world.judge.email: [
            ("/judging", MARKER),
            ("/judging/hp/project", c0.name),
            (f"/judging/hp/project/{c0.id}", XSS[5]),
        ],
        world.partner.email: [
            ("/partner", c0.name),
            (f"/partner/finalists/{c0.id}", XSS[3]),
        ],
    }
    for email, urls in pages.items():
        visitor.sign_in(email)
        for url, shows in urls:
            visitor.check(url, shows)


def test_with_the_policy_on_the_apps_own_scripts_break_no_rule(page: Page, world):
    """The ``page`` fixture fails on any console error (a CSP violation is one);
    the listener catches violations that print nothing."""
    page.add_init_script(CSP_LISTENER)
    c0 = world.candidates[0]
    page.goto("/sign-in")
    page.get_by_label("E-mail").fill(c0.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for url in (
        f"/attempts/{world.running.id}/q/1",
        f"/attempts/{world.finished.id}/result",
        f"/attempts/{world.finished.id}/review",
    ):
        page.goto(url)
        expect(page.locator("body")).to_contain_text(XSS[0])
        page.wait_for_load_state("load")
        assert page.evaluate("window.__csp") == [], url
        assert page.evaluate(f"window.{MARKER}") is None, url
    page.wait_for_load_state("networkidle")
