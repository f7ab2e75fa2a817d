"""Hostile YAML: alias bombs, anchors, duplicate keys, huge or deep files, bad encodings.

File-level cases go through ``validate`` in a subprocess (exit status, one ``error:``
line, no traceback, nothing written); ``--set`` values through ``parse_yaml_value``.
"""

from __future__ import annotations

import pytest
import yaml

from hostile import assert_refused, toolkit, tree
from specs import spec_dict
from toolkit.errors import ToolkitError
from toolkit.yaml_io import MAX_BYTES, MAX_DEPTH, parse_yaml_value, read_yaml_mapping

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(20))


def spec_text(**changes) -> str:
    return yaml.safe_dump(spec_dict(**changes), sort_keys=False)


CASES = {
    "alias bomb": (BOMB, ["anchors and aliases are not accepted", "line 1"]),
    "aliased scalar": (spec_text().replace("name: t", "name: &n t\ndescription: *n"), ["found anchor &n"]),
    "duplicate top-level key": (spec_text() + "seed: 3\n", ["key 'seed' is given twice", "first on line"]),
    "duplicate nested key": (spec_text().replace("epochs: 3", "epochs: 3\n  epochs: 300"),
                             ["key 'epochs' is given twice"]),
    "deep nesting": ("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", [f"deeper than {MAX_DEPTH}"]),
    "huge integer": ("seed: " + "9" * 5000 + "\n", ["a value cannot be read", "4300 digits"]),
    "python tag": ("name: !!python/object/apply:os.system ['touch pwned']\n", ["not valid YAML", "python/object"]),
    "top level list": ("- name: t\n", ["must hold a YAML mapping", "Got list"]),
    "syntax error": ("name: [t\n", ["not valid YAML", "line 2"]),
}


@pytest.mark.parametrize("case", CASES)
def test_validate_refuses_hostile_spec_files(tmp_path, case):
    text, fragments = CASES[case]
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    result = toolkit("validate", "--spec-only", "spec.yaml", cwd=tmp_path, timeout=60)
    assert_refused(result, 2, "spec.yaml", *fragments)
    assert tree(tmp_path) == ["spec.yaml"]  # nothing written, nothing executed (no 'pwned')


def test_oversized_and_non_utf8_files_are_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("description: '" + "x" * MAX_BYTES + "'\n")
    with pytest.raises(ToolkitError, match="larger than 1024 KiB"):
        read_yaml_mapping(big, "a spec", "name:")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    result = toolkit("validate", "--spec-only", "latin.yaml", cwd=tmp_path, timeout=60)
    assert_refused(result, 2, "latin.yaml is not UTF-8 text", "byte 9")


def test_a_spec_with_a_bom_and_no_tricks_still_reads(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + spec_text().encode())
    assert read_yaml_mapping(path, "a spec", "name:")["name"] == "t"


@pytest.mark.parametrize("text, message", [
    ("&a [1, 2]", "anchors and aliases"),
    ("{folds: 3, folds: 4}", "key 'folds' is given twice"),
    ("[" * 100 + "]" * 100, "nested deeper"),
    ("x" * (65 << 10), "longer than 64 KiB"),
])
def test_set_values_refuse_the_same_tricks(text, message):
    with pytest.raises(ToolkitError, match=message) as info:
        parse_yaml_value(text, "--set evaluation.cv")
    assert str(info.value).startswith("--set evaluation.cv: ")


@pytest.mark.parametrize("text, value", [
    ("5", 5), ("{folds: 3}", {"folds": 3}), ("[1, 2]", [1, 2]), ("a: b: c", "a: b: c"), ("0.001", 0.001),
    ("<<: {a: 1}\nb: 2", {"a": 1, "b": 2}),
])
def test_set_values_that_are_plain_yaml_or_plain_text(text, value):
    assert parse_yaml_value(text, "--set x") == value
