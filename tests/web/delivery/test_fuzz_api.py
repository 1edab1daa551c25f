"""The attempt page's JSON endpoints under arbitrary input: every request gets a JSON
answer with a 4xx status (200 for an answer that fits), never a 500, and a refused
answer leaves what is stored untouched.

One attempt serves all the examples of a test (hypothesis runs them inside the one
``app`` fixture), so the answers stored before each request are read back after it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from quizapp.delivery import responses
from quizapp.delivery.models import AnswerEvent, Attempt, AttemptItem, IntegritySignal
from quizapp.extensions import db
from tests.conftest import CSRF_INPUT
from tests.factories import make_quiz, make_user

#: No example database (nothing written outside temp folders); the fixtures are
#: set up once per test on purpose, one attempt for all its examples.
SETTINGS = settings(
    max_examples=120,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
JSON = "application/json"
#: Statuses a request may get besides 200: the errors the page shows.
ERRORS = {400, 404, 413, 422}
#: The every-type quiz in bank order: position -> question type.
TYPES = {
    1: "single",
    2: "multiple",
    3: "true_false",
    4: "numeric",
    5: "text",
    6: "blanks",
    7: "ordering",
    8: "matching",
}

#: Text that databases and encoders are picky about: NUL and other controls, lone
#: surrogates (JSON can carry them, UTF-8 cannot), digits that are not ASCII.
awkward_text = (
    st.text(max_size=30)
    | st.text(st.characters(categories=["Cs", "Cc", "Nd", "No", "Zs"]), max_size=8)
    | st.sampled_from(["\x00", "\ud800", "😀", "٣", "²", "1e999", "9" * 5000])
)
numbers = (
    st.integers(-2, 5)
    | st.integers()
    | st.integers(-(10**30), 10**30)
    | st.floats()  # NaN and Infinity: Python's JSON writes and reads them
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | awkward_text,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(awkward_text, children, max_size=5)
    ),
    max_leaves=15,
)
indices = st.integers(-1, 5) | st.booleans() | st.sampled_from([1.0, "1", None])
#: Answers that get past the first checks of each type and into the later ones.
NEAR_MISSES = {
    "single": indices,
    "multiple": st.lists(indices, max_size=6),
    "true_false": st.booleans() | st.sampled_from([0, 1, "true"]),
    "numeric": awkward_text | numbers,
    "text": awkward_text | numbers,
    "blanks": st.dictionaries(
        st.sampled_from(["b0", "b1"]) | awkward_text,
        awkward_text | numbers | st.none() | st.lists(st.none(), max_size=1),
        max_size=3,
    ),
    "ordering": st.lists(indices, max_size=4) | st.permutations([0, 1, 2]),
    "matching": st.dictionaries(
        st.sampled_from(["0", "1", "2", "00", "-1", " 1"]) | awkward_text,
        indices | awkward_text,
        max_size=3,
    ),
}
signal_bodies = (
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["focus_lost", "hidden"])},
        optional={"detail": awkward_text | json_values},
    )
    | st.fixed_dictionaries({}, optional={"kind": json_values, "detail": json_values})
    | json_values
)


@pytest.fixture
def attempt(app, tmp_path, client, auth) -> Attempt:
    """A signed-in candidate's untimed attempt at the every-type quiz, in bank order."""
    make_user(email="fuzz@example.org")
    auth.sign_in("fuzz@example.org")
    make_quiz(tmp_path, time_limit=None, shuffle=False)
    page = "/quizzes/every-type-quiz"
    csrf = CSRF_INPUT.search(client.get(page).get_data(as_text=True)).group(1)
    started = client.post(f"{page}/start", data={"csrf_token": csrf})
    attempt_id = int(re.search(r"/attempts/(\d+)/", started.location).group(1))
    return db.session.get(Attempt, attempt_id)


@pytest.fixture
def send(client, attempt):
    """Post ``data`` to ``path`` (``{id}``: the attempt's) as the attempt page's
    script does, with its CSRF header and, unless told otherwise, as JSON."""
    page = client.get(f"/attempts/{attempt.id}/q/1").get_data(as_text=True)
    csrf = CSRF_INPUT.search(page).group(1)

    def post(path: str, data: str | bytes, content_type: str | None = JSON):
        kwargs = {"content_type": content_type} if content_type else {}
        url = path.format(id=attempt.id)
        return client.post(url, data=data, headers={"X-CSRFToken": csrf}, **kwargs)

    return post


def stored(attempt: Attempt) -> dict[int, tuple[Any, bool]]:
    """Every item's stored answer and flag, read from the database."""
    rows = db.session.execute(
        select(AttemptItem.position, AttemptItem.response, AttemptItem.is_flagged)
        .where(AttemptItem.attempt_id == attempt.id)
        .order_by(AttemptItem.position)
    )
    return {position: (response, flagged) for position, response, flagged in rows}


def contents(attempt: Attempt) -> dict[int, dict]:
    items = db.session.scalars(
        select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)
    )
    return {item.position: item.version.content for item in items}


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_json_error(response, allowed=ERRORS) -> None:
    assert response.status_code in allowed, response.get_data(as_text=True)[:300]
    assert response.is_json
    error = response.get_json()["error"]
    assert error["status"] == response.status_code
    assert error["message"]


def encode(value: Any) -> str:
    return json.dumps(value)  # NaN and Infinity written as Python's JSON reads them


def test_the_near_misses_cover_every_question_of_the_quiz(attempt):
    assert {p: c["type"] for p, c in contents(attempt).items()} == TYPES
    assert set(NEAR_MISSES) == set(TYPES.values())


@SETTINGS
@given(position=st.sampled_from(list(TYPES)), data=st.data())
def test_any_json_answer_is_saved_or_refused_with_a_json_error(
    client, attempt, send, position, data
):
    response_value = data.draw(NEAR_MISSES[TYPES[position]] | json_values)
    body = data.draw(
        st.fixed_dictionaries(
            {"response": st.just(response_value)},
            optional={"flagged": st.booleans() | json_values},
        )
        | json_values
    )
    before, history = stored(attempt), count(AnswerEvent)

    response = send(f"/api/attempts/{{id}}/answers/{position}", encode(body))

    after = stored(attempt)
    if response.status_code == 200:
        expected = responses.clean(contents(attempt)[position], body.get("response"))
        assert response.get_json()["saved"] is True
        assert after[position][0] == expected
        assert {p: a for p, a in after.items() if p != position} == {
            p: a for p, a in before.items() if p != position
        }
        page = client.get(f"/attempts/{attempt.id}/q/{position}")
        assert page.status_code == 200  # and what was stored can be shown again
    else:
        assert_json_error(response)
        assert after == before
        assert count(AnswerEvent) == history


@SETTINGS
@given(
    body=st.binary(max_size=200)
    | awkward_text.map(lambda text: text.encode("utf-8", "surrogatepass")),
    content_type=st.sampled_from(
        [JSON, "text/plain", "application/x-www-form-urlencoded", None]
    ),
    position=st.integers(0, 10),
)
@example(body="[" * 100_000 + "]" * 100_000, content_type=JSON, position=5)
@example(
    body='{"response": ' + "[" * 50_000 + "]" * 50_000 + "}",
    content_type=JSON,
    position=5,
)
@example(body='{"response": ' + "9" * 5000 + "}", content_type=JSON, position=1)
@example(body='{"response": "' + "x" * 2_000_000 + '"}', content_type=JSON, position=5)
@example(body=" " * (17 * 1024 * 1024), content_type=JSON, position=5)  # > 16 MB
@example(body='{"response": 0}', content_type="text/plain", position=1)
def test_bodies_that_are_not_json_objects_are_refused_with_a_json_error(
    attempt, send, body, content_type, position
):
    before = stored(attempt)

    response = send(f"/api/attempts/{{id}}/answers/{position}", body, content_type)

    assert_json_error(response)
    assert stored(attempt) == before


def test_a_lone_surrogate_is_refused_and_the_question_page_still_loads(
    client, attempt, send
):
    url = "/api/attempts/{id}/answers"

    refused = [
        send(f"{url}/5", encode({"response": "Re\ud800LU"})),
        send(f"{url}/6", encode({"response": {"b0": "\udfff"}})),
    ]
    nul = send(f"{url}/4", encode({"response": "1\x002"}))

    for answer in refused:
        assert_json_error(answer, {422})
    assert_json_error(nul, {400})  # no text anywhere may hold a NUL
    for position in (4, 5, 6):
        assert client.get(f"/attempts/{attempt.id}/q/{position}").status_code == 200
    assert [answer for answer, _ in stored(attempt).values()] == [None] * 8


def test_a_matching_left_in_other_digits_is_refused_and_a_right_one_saved(
    attempt, send
):
    url = "/api/attempts/{id}/answers/8"

    refused = [
        send(url, encode({"response": {left: 1}}))
        for left in ("²", "\u0661", "9" * 5000)
    ]
    saved = send(url, encode({"response": {"0": 0, "1": 1}}))

    for answer in refused:
        assert_json_error(answer, {422})
    assert saved.status_code == 200
    assert stored(attempt)[8] == ({"0": 0, "1": 1}, False)


def test_ids_beyond_the_databases_integers_are_404(attempt, send):
    paths = [
        "/api/attempts/{id}/answers/2147483648",
        "/api/attempts/18446744073709551616/answers/1",
        "/api/attempts/9999999999/signals",
        "/api/attempts/" + "9" * 5000 + "/signals",
    ]
    body = encode({"response": 1, "kind": "hidden"})

    for path in paths:
        assert_json_error(send(path, body), {404})


@SETTINGS
@given(body=signal_bodies)
def test_any_page_signal_is_recorded_or_refused_with_a_json_error(attempt, send, body):
    before = count(IntegritySignal)

    response = send("/api/attempts/{id}/signals", encode(body))

    if response.status_code == 200:
        assert body["kind"] in ("focus_lost", "hidden")
        recorded = response.get_json()["recorded"]
        assert count(IntegritySignal) == before + int(recorded)
    else:
        assert_json_error(response, {400})
        assert count(IntegritySignal) == before


def test_a_signal_detail_with_unstorable_characters_is_still_recorded(attempt, send):
    body = {"kind": "hidden", "detail": "tab \ud800switched"}
    with_nul = {"kind": "hidden", "detail": "tab\x00switched"}

    response = send("/api/attempts/{id}/signals", encode(body))
    refused = send("/api/attempts/{id}/signals", encode(with_nul))

    assert response.get_json() == {"recorded": True}
    assert_json_error(refused, {400})
    assert db.session.scalars(select(IntegritySignal.detail)).all() == [
        "tab \ufffdswitched"
    ]


def test_the_typed_text_backslash_u0000_is_an_answer_not_a_nul(attempt, send):
    """A programming answer may hold the six characters \\u0000; only the JSON
    escape of a real NUL is refused."""
    typed = 'printf("\\u0000")'

    saved = send("/api/attempts/{id}/answers/5", encode({"response": typed}))
    nul = send("/api/attempts/{id}/answers/5", encode({"response": "a\x00"}))

    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert_json_error(nul, {400})
    assert stored(attempt)[5][0] == typed
