"""Static files: versioned URLs, cached for a year."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import quizapp


def test_pages_link_static_files_by_their_content_hash(client):
    html = client.get("/sign-in").get_data(as_text=True)

    css = re.search(r'href="(/static/css/app\.css\?v=([0-9a-f]+))"', html)
    assert css is not None
    source = Path(quizapp.__file__).parent / "static" / "css" / "app.css"
    assert css.group(2) == hashlib.sha256(source.read_bytes()).hexdigest()[:10]


def test_a_static_file_may_be_cached_for_a_year(client):
    html = client.get("/sign-in").get_data(as_text=True)
    url = re.search(r'src="(/static/js/app\.js\?v=[0-9a-f]+)"', html).group(1)

    response = client.get(url)
    response.close()  # a file response: let go of the file

    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "no-store" not in response.headers["Cache-Control"]
