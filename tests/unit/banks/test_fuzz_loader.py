"""The loader and checker under arbitrary and mutated files: every outcome is a list
of ``path:line: field: message`` problems or a valid document, never an exception,
never a hang, and each problem is on the line of the field it names.
"""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from quizapp.banks.checker import check
from quizapp.banks.loader import Documents, load_paths
from quizapp.banks.yamlsource import Problem, dotted, load

ROOT = Path(__file__).parents[3]
SAMPLE = ROOT / "question_banks"
BANKS = [
    *sorted(SAMPLE.glob("*/bank.yaml")),
    ROOT / "tests/data/banks/delivery/every-type/bank.yaml",
]
QUIZZES = sorted((SAMPLE / "quizzes").glob("*.yaml"))
PROGRAMMES = sorted((SAMPLE / "programmes").glob("*.yaml"))

#: No example database: nothing is written outside the temporary folders.
SETTINGS = settings(
    max_examples=50,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: One problem as the CLI prints it, on one line.
PROBLEM = re.compile(r"(?P<path>[^\n]+?):(?P<line>\d+): (?P<field>[^\n]+?): [^\n]+")


def load_and_check(*paths: Path) -> tuple[Documents, list[Problem]]:
    docs = load_paths(paths)
    return docs, check(docs)


#: What YAML 1.1 (PyYAML) counts as a line break: an editor may show fewer lines.
YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def yaml_lines(raw: bytes) -> int:
    """How many lines the loader may count in ``raw``."""
    return len(YAML_BREAK.findall(raw.decode("utf-8", "replace"))) + 1


def assert_reported(problems: list[Problem], path: Path, text_lines: int) -> None:
    """Problems of ``path`` only, each printable on one line at a line of the file
    (0: the file could not be read at all)."""
    for problem in problems:
        shown = str(problem)
        assert PROBLEM.fullmatch(shown), shown
        assert problem.path == str(path), shown
        assert 0 <= problem.line <= text_lines + 1, shown
        assert problem.field, shown
        assert problem.message, shown


# --- (a) arbitrary text and bytes --------------------------------------------------

WORDS = [
    "bank", "title", "questions", "quiz", "programme", "id", "type", "prompt",
    "choices", "text", "correct", "answer", "tolerance", "params", "sections",
    "draw", "from", "modules", "rubric", "points", "single", "numeric", "blanks",
]  # fmt: skip
TOKENS = [
    "- ", "? ", ": ", ", ", "&a ", "*a", "&b ", "*b", "[", "]", "{", "}", "<<: *a",
    "!!python/object/apply:os.system ['true']", "!!str ", "!!int ", "!!bool ",
    "!!timestamp ", "!!binary ", "!foo ", "---", "...", "%YAML 1.1", "# note",
    "|", ">-", '"', "'", "\t", "\\", "~", "yes", "no", "1e400", ".inf", "-.nan",
    "0x1F", "0o17", "1_000", "2021-02-30", "2027-03-01T09:00:00+08:00",
    "9" * 5000, "-1", "0", "12:30:00", "\ufeff", "\u2028", "\x85",
]  # fmt: skip
yamlish_lines = st.lists(
    st.tuples(
        st.integers(0, 6),
        st.lists(st.sampled_from(WORDS + TOKENS) | st.text(max_size=6), max_size=6),
    ).map(lambda line: " " * line[0] + "".join(line[1])),
    max_size=25,
).map("\n".join)
#: Files as an editor, a careless paste or an attacker might leave them.
files = (
    st.binary(max_size=300)
    | st.text(max_size=300).map(str.encode)
    | yamlish_lines.map(str.encode)
    | st.tuples(st.sampled_from(BANKS[:1] + QUIZZES[:1]), st.binary(max_size=40)).map(
        lambda cut: cut[0].read_bytes()[:2000] + cut[1]
    )
)

BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


def text_question(*lines: str) -> bytes:
    """A bank of one text question (id and type on lines 4 and 5), then ``lines``."""
    head = "bank: x\ntitle: t\nquestions:\n  - id: q\n    type: text\n"
    return (head + "".join(f"    {line}\n" for line in lines)).encode()


#: Hostile or broken files the loader must refuse quickly, with the line at fault.
HOSTILE = {
    "regex-repeat": (
        text_question("prompt: p", "accept_regex: ['a{4294967296}']"),
        7,
        "not a valid regular expression: the repetition number is too large",
    ),
    "regex-nesting": (
        text_question("prompt: p", f"accept_regex: ['{'(' * 5000}a{')' * 5000}']"),
        7,
        "not a valid regular expression",
    ),
    "long-image-name": (
        text_question("accept: [a]", f"prompt: '![x](assets/{'a' * 5000}.png)'"),
        7,
        "cannot be read: File name too long",
    ),
    "infinite-points": (
        text_question("prompt: p", "accept: [a]", "points: .inf"),
        8,
        "must be a finite number, not .inf or .nan",
    ),
    "nan-tolerance": (
        b"bank: x\ntitle: t\nquestions:\n  - {id: q, type: numeric, prompt: p,\n"
        b"     answer: 1, tolerance: .nan}\n",
        5,
        "must be a finite number",
    ),
    "huge-counts": (
        b"quiz: q\ntitle: t\nattempts: 99999999999\ntime_limit: 999999999h\n"
        b"sections: [{questions: [x/y]}]\n",
        3,
        "must be at most 2147483647",
    ),
    "billion-laughs": (BILLION_LAUGHS.encode(), 1, "the document is too large"),
    "deep-flow": (b"bank: " + b"[" * 200_000 + b"]" * 200_000, 1, "nested more"),
    "deep-mapping": (b"a: " + b"{a: " * 50_000 + b"1" + b"}" * 50_000, 1, "nested"),
    "deep-block": (
        "".join(" " * i + "- \n" for i in range(200)).encode(),
        66,  # the 65th sequence, on the 66th line
        "nested more than 64 levels deep",
    ),
    "self-alias": (b"a: &a [*a]\n", 1, "nested more than 64 levels deep"),
    "python-tag": (
        b"bank: x\ntitle: !!python/object/apply:os.system ['true']\n",
        2,
        "the YAML tag !!python/object/apply:os.system is not allowed",
    ),
    "bool-tag": (b"bank: x\ntitle: t\nq: !!bool maybe\n", 3, "cannot read 'maybe'"),
    "timestamp-tag": (b"bank: x\nt: !!timestamp never\n", 2, "cannot read 'never'"),
    "duplicate-key": (b"bank: x\ntitle: a\ntitle: b\n", 3, "written twice"),
    "huge-int": (b"bank: x\ntitle: " + b"9" * 5000 + b"\n", 2, "cannot read"),
    "invalid-utf8": (b"bank: x\ntitle: caf\xe9\n", 2, "not UTF-8 text"),
    "nul": (b"bank: x\n\ntitle: a\x00b\n", 3, "unacceptable character #x0000"),
    "tab-indent": (b"bank: x\n\ttitle: y\n", 2, "tab"),
    "key-with-newline": (
        b'bank: x\ntitle: t\nquestions: []\n"a\\nb": 1\n',
        4,
        "unknown field",
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_are_reported_quickly_at_their_line(tmp_path, name):
    raw, line, message = HOSTILE[name]
    path = tmp_path / "bank.yaml"
    path.write_bytes(raw)
    started = time.perf_counter()

    _docs, problems = load_and_check(path)

    assert time.perf_counter() - started < 10
    assert_reported(problems, path, yaml_lines(raw))
    assert any(p.line == line and message in p.message for p in problems), [
        str(p) for p in problems
    ]


@SETTINGS
@given(raw=files)
@example(raw=b'questions:\n  - "\\ud800": x\n')  # a lone surrogate, escaped
@example(raw=b"? [a]\n: 1\n")  # a key that is a list
@example(raw=b"bank: x\n---\nbank: y\n")  # two documents
@example(raw=b"\r\xe2\x80\xa8!")  # line breaks YAML counts and editors may not
def test_any_file_gives_problems_or_one_valid_document(tmp_path, raw):
    path = tmp_path / "bank.yaml"
    path.write_bytes(raw)

    docs, problems = load_and_check(path)

    assert_reported(problems, path, yaml_lines(raw))
    if not problems:
        assert len(docs.banks) + len(docs.quizzes) + len(docs.programmes) == 1


# --- (b) valid files, mutated ------------------------------------------------------

UNKNOWN_KEYS = ["colour", "x-extra", "ünïcode", "Type", "answers", "question"]
#: Text without `.`, `[` and `]`, which would make a field name ambiguous below.
plain_text = st.text(
    st.characters(codec="utf-8", exclude_characters=".[]"), max_size=20
) | st.sampled_from(["", " ", "\t", "x" * 3000, "yes", "null", "1e5", "a/b", "🙂"])


def containers(children: st.SearchStrategy) -> st.SearchStrategy:
    """Lists and mappings of ``children``, keyed by unknown or odd field names."""
    return st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(UNKNOWN_KEYS) | plain_text, children, max_size=3
    )


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.sampled_from([0, -1, 2**31, 10**30, -(10**30)])
    | st.floats()
    | plain_text,
    containers,
    max_leaves=6,
)
mutations = st.sampled_from(["drop", "replace", "add"])


def locations(data: Any, loc: tuple = ()) -> list[tuple]:
    """Every location in ``data``: mapping keys and list items, depth first."""
    found = [loc]
    if isinstance(data, dict):
        for key, value in data.items():
            found += locations(value, (*loc, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += locations(value, (*loc, i))
    return found


def mutate(data: Any, loc: tuple, kind: str, value: Any, key: str) -> Any:
    """``data`` with the value at ``loc`` dropped, replaced, or given an extra key."""
    if not loc:
        return value if kind == "replace" else data
    data = copy.deepcopy(data)
    *parents, last = loc
    holder = data
    for part in parents:
        holder = holder[part]
    if kind == "drop":
        del holder[last]
    elif kind == "replace":
        holder[last] = value
    elif isinstance(holder[last], dict):
        holder[last][key] = value
    elif isinstance(holder, dict):
        holder[key] = value
    else:
        holder.append(value)
    return data


def parent(field: str) -> str | None:
    match = re.fullmatch(r"(.+?)(?:\.[^.\[\]]+|\[[^\]]*\])", field)
    return match.group(1) if match else None


def lines_of_fields(text: str, path: str) -> dict[str, set[int]]:
    """For every field name the loader may print, the lines it stands on."""
    doc, _ = load(path, text)
    names: dict[str, set[int]] = {"(file)": {doc.line(())}}
    for loc, line in doc.lines.items():
        names.setdefault(dotted(loc, doc.data), set()).add(line)
    return names


def expected_lines(field: str, names: dict[str, set[int]]) -> set[int]:
    """The lines of ``field`` or, for a field not in the file (a required one),
    of its nearest enclosing field."""
    while field not in names:
        field = parent(field) or "(file)"
    return names[field]


def related(field: str, anchor: str) -> bool:
    """``field`` is ``anchor``, inside it, or encloses it."""
    return field == "(file)" or anchor.startswith(field) or field.startswith(anchor)


def others_for(source: Path) -> list[Path]:
    """The unchanged files a mutated one is checked with (what it refers to)."""
    if source in QUIZZES:
        return [bank.parent for bank in BANKS]
    if source in PROGRAMMES:
        return [bank.parent for bank in BANKS] + QUIZZES
    return []


def write_mutated(tmp_path: Path, source: Path, data: Any) -> tuple[Path, str]:
    folder = tmp_path / "mutated"
    folder.mkdir(exist_ok=True)
    assets = folder / "assets"
    if assets.is_symlink():
        assets.unlink()
    if source in BANKS:
        assets.symlink_to(source.parent / "assets")
    path = folder / ("bank.yaml" if source in BANKS else source.name)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path, text


@SETTINGS
@given(source=st.sampled_from(BANKS + QUIZZES + PROGRAMMES), data=st.data())
def test_a_mutated_file_is_valid_or_reported_at_the_field_and_line(
    tmp_path, source, data
):
    original = yaml.safe_load(source.read_text())
    loc = data.draw(st.sampled_from(locations(original)[1:]), label="location")
    kind = data.draw(mutations, label="mutation")
    value = data.draw(values, label="value")
    key = data.draw(st.sampled_from(UNKNOWN_KEYS), label="key")
    data = mutate(original, loc, kind, value, key)
    for stale in (tmp_path / "mutated").glob("*.yaml"):
        stale.unlink()
    path, text = write_mutated(tmp_path, source, data)

    _docs, problems = load_and_check(path, *others_for(source))

    assert_reported(problems, path, yaml_lines(text.encode("utf-8", "surrogatepass")))
    if not problems:
        return
    names = lines_of_fields(text, str(path))
    for problem in problems:
        assert problem.line in expected_lines(problem.field, names), str(problem)
    # The change is reported where it was made: in the question, section or module
    # it was made in (a header field may upset another, as closes and opens do).
    item = loc[:2] if len(loc) > 1 and isinstance(loc[1], int) else ()
    dropped_item = kind == "drop" and loc == item
    anchor = dotted(item, data) if item and not dropped_item else None
    assert anchor is None or any(related(p.field, anchor) for p in problems), (
        kind,
        loc,
        [str(p) for p in problems],
    )


def test_every_sample_file_is_valid_unmutated(tmp_path):
    for source in BANKS + QUIZZES + PROGRAMMES:
        data = yaml.safe_load(source.read_text())
        path, _ = write_mutated(tmp_path, source, data)

        _docs, problems = load_and_check(path, *others_for(source))

        assert problems == [], [str(p) for p in problems]
        path.unlink()


# --- (c) the command ---------------------------------------------------------------


def test_the_check_command_reports_fuzzed_files_as_lines_and_exits_1(runner, tmp_path):
    folder = tmp_path / "content"
    folder.mkdir()
    for name in ("deep-flow", "python-tag", "invalid-utf8", "key-with-newline"):
        (folder / f"{name}.yaml").write_bytes(HOSTILE[name][0])
    data = yaml.safe_load(BANKS[0].read_text())
    data["questions"][0]["points"] = float("inf")
    with_choices = [q for q in data["questions"] if "choices" in q]
    with_choices[0]["choices"] = "all of them"
    with_choices[1]["answer"] = True
    data["questions"][2]["colour"] = {"nested": [None]}
    (folder / "mutated.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))

    result = runner.invoke(args=["banks", "check", str(folder)])

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    *lines, summary = result.stderr.splitlines()
    assert summary == f"{len(lines)} problems in 5 files."
    for line in lines:
        match = PROBLEM.fullmatch(line)
        assert match, line
        assert Path(match["path"]).parent == folder
    assert any(
        ".points: must be a finite number, not .inf or .nan" in line for line in lines
    )
    assert any(".choices: input should be a valid list" in line for line in lines)
    assert any(
        ".answer: unknown field here: it belongs to another question type or file"
        in line
        for line in lines
    )
    assert any(line.endswith("].colour: unknown field") for line in lines)
    assert any("nested more than 64 levels deep" in line for line in lines)
    assert any(line.endswith(": a\\nb: unknown field") for line in lines)
