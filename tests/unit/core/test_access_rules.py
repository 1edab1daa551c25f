"""Every view declares who may reach it; the app refuses to start otherwise."""

from __future__ import annotations

import pytest
from flask import Flask

from quizapp.core.auth import ACCESS_RULE, check_access_rules, public


def test_a_view_without_an_access_rule_stops_the_app():
    app = Flask(__name__)
    app.add_url_rule("/open", "open_page", public(lambda: "ok"))
    app.add_url_rule("/forgotten", "forgotten_page", lambda: "oops")

    with pytest.raises(RuntimeError, match="forgotten_page") as raised:
        check_access_rules(app)

    assert "open_page" not in str(raised.value)


def test_every_view_of_quizapp_declares_a_rule(app):
    rules = {
        endpoint: getattr(view, ACCESS_RULE, None)
        for endpoint, view in app.view_functions.items()
        if endpoint != "static"
    }

    assert None not in rules.values()
    assert rules["accounts.sign_in"] == "public"
    assert rules["accounts.change_password"] == "signed_in"
    assert rules["accounts.list_accounts"] == ("admin",)
