"""Signals between features, so dependencies keep pointing one way.

``delivery`` sends; ``programmes`` and ``leaderboard`` subscribe. Receivers run in
the sender's transaction: they may add to the session but never commit.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent with ``attempt=`` after an attempt is graded (finalize or regrade).
attempt_finalized = _signals.signal("attempt-finalized")

#: Sent with ``quiz=`` and ``user_ids=`` once a regrade has changed the scores of
#: those candidates' attempts at the quiz (one signal for the whole regrade).
attempts_regraded = _signals.signal("attempts-regraded")

#: Sent with ``quiz=`` when an import changed a quiz (its window, time limit...).
quiz_changed = _signals.signal("quiz-changed")

#: Sent with ``programme=`` when an import added or changed a programme (its
#: modules or their assessments may have changed).
programme_changed = _signals.signal("programme-changed")
