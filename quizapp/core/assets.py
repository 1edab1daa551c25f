"""Static files served with long cache headers, safe because their URLs change.

Every ``url_for("static", filename=...)`` gets ``?v=<first 10 hex digits of the
file's SHA-256>``, so a browser (or nginx, see deploy/nginx/quizapp.conf) may keep a
file for a year (``SEND_FILE_MAX_AGE_DEFAULT``, :mod:`quizapp.config`) and still
fetches a changed one at once: a new deployment gives it a new URL. Files referenced
from inside CSS (KaTeX's fonts) sit under ``vendor/<lib>-<version>/``, whose path
changes with the version.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask


def register_static_versions(app: Flask) -> None:
    """Add the content version to every static URL ``app`` builds."""
    folder = Path(app.static_folder or "")

    @cache
    def version(filename: str) -> str | None:
        # Files never change while a process runs (a deployment restarts it).
        path = (folder / filename).resolve()
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            return None
        return hashlib.sha256(path.read_bytes()).hexdigest()[:10]

    @app.url_defaults
    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            stamp = version(values["filename"])
            if stamp:
                values["v"] = stamp
