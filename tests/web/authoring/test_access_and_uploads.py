"""Who may author (instructors and admins), and what an image upload accepts."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from quizapp.accounts.models import Role
from quizapp.authoring import services
from quizapp.banks.checker import MAX_ASSET_BYTES
from quizapp.banks.export import export_bank
from quizapp.banks.models import AssetBlob
from quizapp.extensions import db
from tests.factories import make_user
from tests.web.authoring.conftest import FORMS, create, question

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
GETS = [
    "/authoring",
    "/authoring/banks/auth/new",
    "/authoring/banks/auth/new/single",
    "/authoring/banks/auth/questions/existing/edit",
    "/authoring/banks/auth/assets/assets/relu.svg",
]
POSTS = [
    "/authoring/banks/auth/new/single",
    "/authoring/banks/auth/questions/existing/edit",
    "/authoring/banks/auth/preview/single",
    "/authoring/banks/auth/assets",
]


def upload(forms, data: bytes, name: str = "chart.png"):
    token = forms.token("/authoring/banks/auth/new/single")
    return forms.client.post(
        "/authoring/banks/auth/assets",
        data={"csrf_token": token, "image": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("path", GETS)
def test_anonymous_visitors_are_sent_to_sign_in(client, bank, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")


@pytest.mark.parametrize("role", [Role.candidate, Role.organiser, Role.partner])
@pytest.mark.parametrize("path", GETS)
def test_only_instructors_and_admins_reach_the_editors(client, auth, bank, role, path):
    make_user("someone@example.org", roles=(role,))
    auth.sign_in("someone@example.org")

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", POSTS)
def test_a_candidate_cannot_post_to_the_editors(forms, auth, bank, path):
    make_user("cand@example.org")
    auth.sign_in("cand@example.org")

    assert forms.post(path, FORMS["single"], page="/").status_code == 403
    assert question("new-single") is None


def test_an_admin_may_author(forms, auth, bank):
    make_user("root@example.org", roles=(Role.admin,))
    auth.sign_in("root@example.org")

    assert create(forms, "true_false").status_code == 302


def test_a_png_is_kept_once_and_named_by_its_content(forms, bank, instructor):
    first = upload(forms, PNG, "My chart!.png").get_json()
    again = upload(forms, PNG, "other.png").get_json()

    assert first["reference"].startswith("assets/My-chart-")
    assert first["reference"].endswith(".png")
    assert first["markdown"] == f"![My-chart]({first['reference']})"
    assert again["reference"].startswith("assets/other-")
    blobs = db.session.scalar(select(func.count()).select_from(AssetBlob))
    assert blobs == 2  # the bank's SVG and this PNG


def test_the_real_type_decides_not_the_name(forms, bank, instructor):
    reference = upload(forms, b"GIF89a" + b"\x00" * 10, "photo.png").get_json()
    refused = upload(forms, b"MZ\x90\x00 not an image", "image.png")

    assert reference["reference"].endswith(".gif")
    assert refused.status_code == 400
    assert "not a PNG, JPEG, GIF, WebP or SVG image" in refused.get_json()["error"]


def test_a_too_large_image_is_refused(forms, bank, instructor, monkeypatch):
    # The limit is the checker's (2 MB), so an upload always exports to files that
    # `flask banks check` accepts; a smaller one here keeps the test light.
    assert services.MAX_ASSET_BYTES == MAX_ASSET_BYTES == 2 * 2**20
    monkeypatch.setattr(services, "MAX_ASSET_BYTES", 1024)

    response = upload(forms, PNG + b"\x00" * 1024)

    assert response.status_code == 400
    assert response.get_json()["error"] == "the image is larger than 1 KB"
    assert upload(forms, PNG).status_code == 200


def test_an_svg_with_script_is_refused(forms, bank, instructor):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    handler = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'

    assert upload(forms, svg, "x.svg").status_code == 400
    assert upload(forms, handler, "x.svg").status_code == 400
    assert upload(forms, b'<svg xmlns="http://www.w3.org/2000/svg"/>', "ok.svg").is_json


def test_an_uploaded_image_is_shown_saved_and_exported(
    forms, bank, instructor, tmp_path
):
    reference = upload(forms, PNG).get_json()["reference"]
    data = {**FORMS["true_false"], "prompt": f"A chart:\n\n![chart]({reference})"}

    preview = forms.client.get(f"/authoring/banks/auth/assets/{reference}")
    response = create(forms, "true_false", data)

    assert preview.status_code == 200
    assert preview.data == PNG
    assert "sandbox" in preview.headers["Content-Security-Policy"]
    assert response.status_code == 302
    version = question("new-tf").current_version
    assert list(version.assets) == [reference]
    folder = export_bank("auth", tmp_path).parent
    assert (folder / reference).read_bytes() == PNG


def test_the_upload_button_works_without_script(forms, bank, instructor):
    token = forms.token("/authoring/banks/auth/new/single")
    data = {
        **FORMS["single"],
        "csrf_token": token,
        "action": "upload",
        "image": (io.BytesIO(PNG), "fig.png"),
    }

    response = forms.client.post(
        "/authoring/banks/auth/new/single",
        data=data,
        content_type="multipart/form-data",
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Image uploaded. Show it with <code>![description](assets/fig-" in page
    assert "Which is $\\max(0, x)$?" in page  # the form kept what was typed
    assert question("new-single") is None


def test_unknown_images_are_404_in_the_editor(client, bank, instructor):
    assert client.get("/authoring/banks/auth/assets/assets/nope.png").status_code == 404
    missing = "/authoring/banks/auth/assets/assets/x-0123456789ab.png"
    assert client.get(missing).status_code == 404
