"""`flask banks check` on one broken folder per kind of mistake.

Each folder under ``tests/data/banks/bad/`` holds the files and ``expected.txt``: the
exact ``path:line: field: message`` lines the command must print (paths relative to
the folder). Adding a case is adding a folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parents[2] / "data" / "banks"
BAD = sorted(p for p in (DATA / "bad").iterdir() if p.is_dir())
SAMPLE = Path(__file__).parents[3] / "question_banks"


def problems(output: str, folder: Path) -> list[str]:
    prefix = f"{folder}/"
    return [
        line.removeprefix(prefix)
        for line in output.splitlines()
        if line.startswith(prefix)
    ]


@pytest.mark.parametrize("folder", BAD, ids=[p.name for p in BAD])
def test_each_mistake_is_reported_at_its_line_and_exits_1(runner, folder):
    expected = (folder / "expected.txt").read_text().splitlines()

    result = runner.invoke(args=["banks", "check", str(folder)])

    assert result.exit_code == 1
    assert problems(result.stderr, folder) == expected
    count = len(expected)
    assert f"{count} problem{'s' if count > 1 else ''} in" in result.stderr


def test_the_cases_cover_every_kind_the_issue_names():
    names = {p.name for p in BAD}
    assert {
        "syntax-error",
        "unknown-type",
        "duplicate-id",
        "two-correct-single",
        "bad-regex",
        "negative-tolerance",
        "forbidden-expression",
        "unsafe-tag",
        "missing-asset",
        "unknown-question-reference",
        "overdraw",
        "bad-duration",
        "bad-slug",
    } <= names


def test_every_error_of_a_run_is_reported_not_only_the_first(runner):
    folders = [DATA / "bad" / "bad-regex", DATA / "bad" / "unsafe-tag"]

    result = runner.invoke(args=["banks", "check", *map(str, folders)])

    assert result.exit_code == 1
    # Both banks are called "demo": the second is also reported as a duplicate.
    assert "accept_regex[0]: not a valid regular expression" in result.stderr
    assert (
        "the YAML tag !!python/object/apply:os.system is not allowed" in result.stderr
    )
    assert "bank 'demo' is also defined in" in result.stderr


def test_the_sample_content_is_clean(runner):
    result = runner.invoke(args=["banks", "check", str(SAMPLE)])

    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("OK: 10 files, 4 banks, ")
    assert "5 quizzes, 1 programmes" in result.stdout


def test_a_missing_path_is_an_error(runner, tmp_path):
    result = runner.invoke(args=["banks", "check", str(tmp_path / "nope")])

    assert result.exit_code == 1
    assert f"{tmp_path / 'nope'}:0: (path): no such file or folder" in result.stderr


def test_an_empty_file_is_an_error(runner, tmp_path):
    (tmp_path / "bank.yaml").write_text("")

    result = runner.invoke(args=["banks", "check", str(tmp_path)])

    assert result.exit_code == 1
    assert "bank.yaml:1: (file): the file is empty" in result.stderr


def test_a_file_that_is_not_utf8_is_an_error(runner, tmp_path):
    (tmp_path / "bank.yaml").write_bytes(b"bank: x\ntitle: caf\xe9\n")

    result = runner.invoke(args=["banks", "check", str(tmp_path)])

    assert result.exit_code == 1
    assert "bank.yaml:2: (file): not UTF-8 text" in result.stderr
