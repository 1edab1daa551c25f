"""quizapp: a self-hosted online quiz and bootcamp assessment engine."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from quizapp import config as settings
from quizapp.config import ConfigError

__all__ = ["ConfigError", "create_app"]


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route (ids and positions): a number beyond the
    database's 32-bit integer matches no route, so it is a 404 instead of a query
    that fails (PostgreSQL: out of range; SQLite: too large to bind)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. Nothing here touches the database or the network.

    :param config: settings that win over the environment (tests); the same keys as
        :data:`quizapp.config.SETTINGS` without the ``QUIZAPP_`` prefix.
    :raise ConfigError: if the configuration cannot work (see :func:`config.load`).
    """
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(settings.load(config, Path(app.instance_path)))

    _init_extensions(app)
    app.url_map.converters["int"] = IdConverter
    _register_blueprints(app)
    _register_templating(app)

    from quizapp.cli import register_commands
    from quizapp.core.assets import register_static_versions
    from quizapp.core.auth import check_access_rules
    from quizapp.core.errors import register_error_handlers
    from quizapp.core.security import register_security_headers

    register_error_handlers(app)
    register_security_headers(app)
    register_static_versions(app)
    register_commands(app)
    check_access_rules(app)

    proxies = app.config["QUIZAPP_TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    return app


def _init_extensions(app: Flask) -> None:
    from quizapp.core.auth import unauthorized
    from quizapp.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.unauthorized_handler(unauthorized)

    from sqlalchemy import bindparam
    from sqlalchemy.orm import joinedload

    from quizapp.accounts.models import SIGN_IN_MAX_AGE, SignIn, User
    from quizapp.core import clock

    # On every request: the sign-in, its account and the roles in one query, built
    # once (its construction and cache key cost more than running it).
    query = (
        db.select(User)
        .join(SignIn, SignIn.user_id == User.id)
        .where(
            SignIn.token == bindparam("token"),
            SignIn.created_at >= bindparam("oldest"),
            User.is_active.is_(True),
        )
        .options(joinedload(User.roles))
    )

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        user = (
            db.session.execute(
                query, {"token": token, "oldest": clock.now() - SIGN_IN_MAX_AGE}
            )
            .unique()
            .scalar_one_or_none()
        )
        if user is not None:
            user.sign_in_token = token
        return user


def _register_blueprints(app: Flask) -> None:
    from quizapp.accounts import bp as accounts_bp
    from quizapp.authoring import bp as authoring_bp
    from quizapp.banks import bp as banks_bp
    from quizapp.bootcamp import bp as bootcamp_bp
    from quizapp.delivery import api_bp as delivery_api_bp
    from quizapp.delivery import bp as delivery_bp
    from quizapp.home import bp as home_bp
    from quizapp.privacy import bp as privacy_bp
    from quizapp.programmes import bp as programmes_bp
    from quizapp.statistics import bp as statistics_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(banks_bp)
    app.register_blueprint(delivery_bp)
    app.register_blueprint(delivery_api_bp)
    app.register_blueprint(programmes_bp)
    app.register_blueprint(statistics_bp)
    app.register_blueprint(authoring_bp)
    app.register_blueprint(bootcamp_bp)
    app.register_blueprint(privacy_bp)


def _register_templating(app: Flask) -> None:
    from quizapp.accounts.models import Role
    from quizapp.grading.variants import format_value

    zone = ZoneInfo(app.config["QUIZAPP_TIMEZONE"])

    @app.template_filter("localtime")
    def localtime(value, fmt: str = "%d %b %Y, %H:%M") -> str:
        """Show an aware UTC datetime in the configured time zone."""
        if value is None:
            return ""
        return value.astimezone(zone).strftime(fmt)

    @app.template_filter("num")
    def number(value) -> str:
        """A number as a person writes it: 2, 0.5, 33.33 (not 2.0 or 0.5000)."""
        return format_value(round(value, 2)) if value is not None else ""

    @app.template_filter("markdown")
    def markdown(value) -> str:
        """Markdown from content files (quiz descriptions), sanitised."""
        from quizapp.core.markdown import render

        return render(value)

    @app.context_processor
    def globals_for_templates() -> dict[str, Any]:
        return {"Role": Role, "time_zone": app.config["QUIZAPP_TIMEZONE"]}
