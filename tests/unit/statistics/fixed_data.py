"""The small fixed data set whose statistics are worked out by hand in
test_hand_computed.py: six candidates' first attempts at four questions of the
every-type bank, each worth 1 point, and second attempts by two of them.

Attempts are made the way candidates make them (start, save, submit through
:mod:`quizapp.delivery.services`), so the grading engine scores them.
"""

from __future__ import annotations

from quizapp.banks.models import Quiz
from quizapp.core import clock
from quizapp.delivery import services
from quizapp.extensions import db
from tests.factories import make_quiz, make_user

SLUG = "stats-quiz"
KEYS = ("single-capital", "multiple-primes", "tf-sky", "text-activation")
REFS = tuple(f"every-type/{key}" for key in KEYS)

# single-capital: 0 Lyon, 1 Paris (correct), 2 Marseille.
# multiple-primes, partial scoring (options right / 4): 0 "2" and 1 "3" correct,
#   2 "4" and 3 "9" not: [0, 1] earns 1, [0, 2] 2/4, [2, 3] 0, nothing 0.
# tf-sky: True is right. text-activation: "ReLU" in any case is right.
# None: the question is left unanswered (nothing saved).
FIRST_ATTEMPTS = [
    #  single multiple  tf    text         scores           total
    (1, [0, 1], True, "ReLU"),  # A1:  1, 1,   1, 1       4
    (1, [0, 1], True, "sigmoid"),  # A2:  1, 1,   1, 0       3
    (0, [2, 3], True, "tanh"),  # A3:  0, 0,   1, 0       1
    (2, [0, 2], True, None),  # A4:  0, 1/2, 1, 0       3/2
    (None, None, True, "relu"),  # A5:  0, 0,   1, 1       2
    (1, [0, 1], True, "softmax"),  # A6:  1, 1,   1, 0       3
]
#: Candidate index -> their second attempt: A3 then scores 4, A5 scores 3.
SECOND_ATTEMPTS = {
    2: (1, [0, 1], True, "ReLU"),
    4: (1, [0, 1], True, "sigmoid"),
}


def make_stats_quiz(folder, slug: str = SLUG) -> Quiz:
    """The quiz of the four questions, in this order, two attempts allowed."""
    return make_quiz(
        folder,
        slug,
        keys=KEYS,
        attempts=2,
        time_limit=None,
        shuffle=False,
        pass_mark=None,
    )


def take(user, quiz: Quiz, responses) -> None:
    """One attempt by ``user`` with ``responses`` by position, submitted."""
    now = clock.now()
    attempt = services.start_attempt(user, quiz, now)
    origin = services.Origin(channel="form")
    for item, response in zip(services.items_of(attempt), responses, strict=True):
        if response is not None:
            services.save_response(attempt, item, response, now, origin)
    services.submit_attempt(attempt, now)
    db.session.commit()


def make_fixed_attempts(quiz: Quiz, second: bool = True) -> list:
    """The six candidates' first attempts and, with ``second``, the two retakes."""
    users = [make_user(name=f"Candidate A{n}") for n in range(1, 7)]
    for user, responses in zip(users, FIRST_ATTEMPTS, strict=True):
        take(user, quiz, responses)
    if second:
        for index, responses in SECOND_ATTEMPTS.items():
            take(users[index], quiz, responses)
    return users
