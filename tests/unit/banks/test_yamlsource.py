"""The safe YAML reader: plain types only, lines kept, bombs defused."""

from __future__ import annotations

from quizapp.banks.yamlsource import load


def test_values_keep_the_line_of_their_key():
    doc, problems = load("f.yaml", "bank: b\nquestions:\n  - id: q\n    type: text\n")

    assert problems == []
    assert doc.line(("questions", 0, "type")) == 4
    assert doc.line(("questions", 0, "missing")) == 3  # nearest enclosing item


def test_an_alias_bomb_stops_at_the_node_budget():
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")

    doc, problems = load("bomb.yaml", "\n".join(lines))

    assert doc is None
    assert problems[0].message.startswith("the document is too large")


def test_python_tags_are_refused_and_never_constructed(tmp_path):
    marker = tmp_path / "pwned"
    text = f'x: !!python/object/apply:os.system ["touch {marker}"]\n'

    _doc, problems = load("evil.yaml", text)

    assert [str(p) for p in problems] == [
        "evil.yaml:1: x: the YAML tag !!python/object/apply:os.system "
        "is not allowed (plain YAML only)"
    ]
    assert not marker.exists()


def test_timestamps_and_numbers_are_read_as_yaml_means_them():
    doc, problems = load("q.yaml", "opens: 2027-03-01T09:00:00+08:00\nn: 0x10\n")

    assert problems == []
    assert doc.data["opens"].utcoffset().total_seconds() == 8 * 3600
    assert doc.data["n"] == 16


def test_a_second_document_is_an_error():
    doc, problems = load("two.yaml", "a: 1\n---\nb: 2\n")

    assert doc is None
    assert problems[0].line >= 1
    assert "YAML" in problems[0].message
