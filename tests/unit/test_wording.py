"""The reports' wording file: shipped whole, every key used, every faulty file refused in one line.

``params/wording.yaml`` holds the sentences; ``rfd_lib.wording.SENTENCES`` declares each key and
the placeholders the code supplies. A key declared but never said, or said but never declared,
fails here. Each way an analyst can break the file fails on load with one line naming the file
and the key; a value from the data is inserted once, never read as a template, and escaped
where the sentence becomes HTML.
"""

from __future__ import annotations

import os
import re
import string
from pathlib import Path

import pandas as pd
import pytest

from rfd_lib import config
from rfd_lib.errors import RfdAuditError
from rfd_lib.report.tables import headed, paragraphs
from rfd_lib.wording import SENTENCES, WordingError, say, wording

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "params" / "wording.yaml"
GROUPS = sorted({key.split(".")[0] for key in SENTENCES})
# A key as code writes it: a quoted string starting with one of the file's groups.
KEY_LITERAL = re.compile(r"""["']((?:""" + "|".join(GROUPS) + r""")\.[a-z0-9_.]+)["']""")


def _code() -> dict[Path, str]:
    """Return the source of every rfd_lib module that may say a sentence (all but wording.py)."""
    return {
        path: path.read_text(encoding="utf-8")
        for path in (ROOT / "rfd_lib").rglob("*.py")
        if path.name != "wording.py"
    }


def test_the_shipped_file_loads_with_every_declared_sentence():
    loaded = wording(SHIPPED)
    assert set(loaded.templates) == set(SENTENCES)
    assert config.WORDING.name == "wording.yaml" and wording().templates.keys() == loaded.templates.keys()


def test_each_shipped_sentence_uses_every_placeholder_the_code_supplies():
    # The file's header tells an analyst that each sentence as shipped shows all it can use.
    for key, template in wording(SHIPPED).templates.items():
        used = {field for _, field, _, _ in string.Formatter().parse(template.text) if field}
        assert used == set(SENTENCES[key]), key


def test_every_declared_key_is_said_somewhere_in_rfd_lib():
    said = {key for text in _code().values() for key in KEY_LITERAL.findall(text)}
    assert [key for key in SENTENCES if key not in said] == []


def test_every_key_the_code_says_is_declared():
    used = {key: path for path, text in _code().items() for key in KEY_LITERAL.findall(text)}
    assert used, "the pattern finds no key: is it out of date?"
    undeclared = {key: str(path.relative_to(ROOT)) for key, path in used.items() if key not in SENTENCES}
    assert undeclared == {}


def test_say_fills_in_a_sentence():
    assert say("provider_page.title", provider="Synthetic Ashcombe Hospitals", code="ZA1") == (
        "RFD audit: Synthetic Ashcombe Hospitals (ZA1)"
    )
    assert (
        say("charts.funnel.caption.none_outside", level="99.8") == "No provider is outside the 99.8 % limits."
    )


def test_say_refuses_an_undeclared_key_or_the_wrong_values():
    with pytest.raises(KeyError, match=r"provider_page\.titel"):
        say("provider_page.titel", provider="x", code="y")
    with pytest.raises(TypeError, match="code"):
        say("provider_page.title", provider="x")
    with pytest.raises(TypeError, match="extra"):
        say("provider_page.title", provider="x", code="y", extra="z")


# --- faulty files -----------------------------------------------------------------------------

TITLE = '  title: "RFD audit: {provider} ({code})"\n'


def _faulty(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    target = tmp_path / f"{name}.yaml"
    target.write_text(text.replace(old, new), encoding="utf-8")
    return target


FAULTS = [
    # case                            the line as shipped → as broken                                   key named                  words in the message
    ("a sentence missing",            TITLE, "",                                                       "provider_page.title",     ["missing", "HINT: copy it back"]),
    ("a misspelt key",                TITLE, TITLE.replace("title", "titel"),                          "provider_page.titel",     ["not a sentence or group", "did you mean provider_page.title?"]),
    ("a misspelt group",              "\nsummary_page:\n", "\nsumary_page:\n",                         "sumary_page",             ["not a sentence or group", "did you mean summary_page?"]),
    ("an unknown placeholder",        TITLE, TITLE.replace("{provider}", "{provdier}"),                "provider_page.title",     ["unknown placeholder '{provdier}'", "it can use {provider}, {code}"]),
    ("a placeholder for another",     TITLE, TITLE.replace("{code}", "{quarter}"),                     "provider_page.title",     ["unknown placeholder '{quarter}'"]),
    ("a stray opening brace",         TITLE, TITLE.replace("({code})", "({code}) {"),                  "provider_page.title",     ["not a valid template", "Single '{'", "{{ or }}"]),
    ("a stray closing brace",         TITLE, TITLE.replace("({code})", "({code}) }"),                  "provider_page.title",     ["not a valid template", "Single '}'"]),
    ("an unclosed placeholder",       TITLE, TITLE.replace("{code})", "{code )"),                      "provider_page.title",     ["not a valid template", "expected '}'"]),
    ("an attribute",                  TITLE, TITLE.replace("{provider}", "{provider.__class__}"),      "provider_page.title",     ["'{provider.__class__}' must be a plain {name}"]),
    ("an index",                      TITLE, TITLE.replace("{provider}", "{provider[0]}"),             "provider_page.title",     ["'{provider[0]}' must be a plain {name}"]),
    ("a numbered placeholder",        TITLE, TITLE.replace("{provider}", "{0}"),                       "provider_page.title",     ["'{0}' must be a plain {name}"]),
    ("an empty placeholder",          TITLE, TITLE.replace("{provider}", "{}"),                        "provider_page.title",     ["'{}' must be a plain {name}"]),
    ("a conversion",                  TITLE, TITLE.replace("{provider}", "{provider!r}"),              "provider_page.title",     ["'{provider!r}' must be a plain {name}"]),
    ("a format spec",                 TITLE, TITLE.replace("{provider}", "{provider:>300}"),           "provider_page.title",     ["'{provider:>300}' must be a plain {name}"]),
    ("a nested placeholder",          TITLE, TITLE.replace("{provider}", "{provider:{code}}"),         "provider_page.title",     ["must be a plain {name}"]),
    ("a number, not text",            TITLE, "  title: 12\n",                                          "provider_page.title",     ["must be text, not int"]),
    ("an unquoted {placeholder}",     TITLE, "  title: {provider}\n",                                   "provider_page.title",     ["must be text, not dict", "double quotes"]),
    ("nothing",                       TITLE, "  title:\n",                                             "provider_page.title",     ["must be text, not nothing"]),
    ("a group made a sentence",       '  rate_unit: "counted RFDs {per}"\n', '  rate_unit:\n    unit: "x"\n',                     "shared.rate_unit",        ["must be text, not dict"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "old", "new", "key", "words"), FAULTS, ids=[row[0] for row in FAULTS])
def test_a_faulty_wording_file_fails_on_load_in_one_line_naming_the_file_and_key(
    tmp_path, case, old, new, key, words
):
    target = _faulty(tmp_path, "wording", old, new)
    with pytest.raises(WordingError) as caught:
        wording(target)
    message = str(caught.value)
    assert isinstance(caught.value, RfdAuditError)
    assert message.startswith(f"{target}: {key}: "), message
    assert "\n" not in message and len(message) < 300, message
    for word in words:
        assert word in message, (case, message)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", ["must be groups of sentences", "an empty file"]),
        ("- a list\n", ["must be groups of sentences", "not list"]),
        ("shared: [1, 2]\n", ["shared: must be a group of sentences (key: text), not list"]),
        ("shared:\n", ["shared: must be a group of sentences (key: text), not nothing"]),
        (f"? {'k' * 100_000}\n: 1\n", ["kkk", "…", "not a sentence or group"]),
        ("shared:\n  rate_unit: {x} per 100,000\n", ["not valid YAML at line 2", "quotes"]),
    ],
)
def test_a_wording_file_of_the_wrong_shape_fails_in_one_short_line(tmp_path, content, words):
    target = tmp_path / "wording.yaml"
    target.write_text(content, encoding="utf-8")
    with pytest.raises(WordingError) as caught:
        wording(target)
    message = str(caught.value)
    assert message.startswith(f"{target}: ") and "\n" not in message and len(message) < 300, message
    for word in words:
        assert word in message, message


def test_many_missing_sentences_are_counted_in_the_one_line(tmp_path):
    target = tmp_path / "wording.yaml"
    target.write_text('shared:\n  rate_unit: "x"\n', encoding="utf-8")
    with pytest.raises(WordingError) as caught:
        wording(target)
    message = str(caught.value)
    assert f"{len(SENTENCES) - 1:,} missing" in message and "\n" not in message and len(message) < 400


def test_a_sentence_may_leave_out_its_placeholders(tmp_path):
    target = _faulty(tmp_path, "short", TITLE, '  title: "The RFD audit of {code}"\n')
    assert (
        wording(target).say("provider_page.title", provider="ignored", code="ZA1") == "The RFD audit of ZA1"
    )
    target = _faulty(tmp_path, "none", TITLE, '  title: "RFD audit"\n')
    assert wording(target).say("provider_page.title", provider="x", code="y") == "RFD audit"


def test_a_literal_brace_is_written_twice(tmp_path):
    target = _faulty(tmp_path, "braces", TITLE, '  title: "{{RFD}} audit: {provider} ({code})"\n')
    assert wording(target).say("provider_page.title", provider="P", code="C") == "{RFD} audit: P (C)"


def test_the_reports_read_the_configured_file_and_see_it_change(tmp_path, monkeypatch):
    target = _faulty(tmp_path, "wording", TITLE, '  title: "Audit of {provider}"\n')
    monkeypatch.setattr(config, "WORDING", target)
    assert say("provider_page.title", provider="P", code="C") == "Audit of P"
    # Loaded once until the file changes (cached by path and modification time).
    assert wording() is wording()
    target.write_text(target.read_text(encoding="utf-8").replace("Audit of", "Report on"), encoding="utf-8")
    later = target.stat().st_mtime_ns + 1_000_000_000
    os.utime(target, ns=(later, later))
    assert say("provider_page.title", provider="P", code="C") == "Report on P"


# --- values are data ----------------------------------------------------------------------------

HOSTILE = ["{x}", "{provider}", "{provider.__class__}", "{0}", "{", "}", "</p><script>alert(1)</script>"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_value_is_inserted_once_and_escaped_in_a_paragraph(value):
    sentence = say("provider_page.title", provider=value, code="ZA1")
    assert sentence == f"RFD audit: {value} (ZA1)"  # not formatted again, whatever it holds
    html = str(paragraphs([sentence]))
    assert "<script>" not in html and "</p><" not in html.removeprefix("<p>").removesuffix("</p>")
    assert html == "<p>RFD audit: " + value.replace("<", "&lt;").replace(">", "&gt;") + " (ZA1)</p>"


def test_two_table_columns_headed_alike_are_refused_naming_the_keys():
    frame = pd.DataFrame({"a": ["1"], "b": ["2"]})
    classes = pd.DataFrame({"a": [""], "b": [""]})
    renamed, _ = headed(frame, classes, {"a": ("k.a", "A"), "b": ("k.b", "B")})
    assert list(renamed.columns) == ["A", "B"]
    with pytest.raises(WordingError, match=r"k\.a and k\.b: two columns of one table are headed 'A'"):
        headed(frame, classes, {"a": ("k.a", "A"), "b": ("k.b", "A")})
