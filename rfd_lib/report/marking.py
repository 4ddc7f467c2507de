"""The run's protective marking (e.g. OFFICIAL-SENSITIVE): checked once, printed on every page.

Government Security Classifications mark a document at the top and bottom of every page, in
capitals. The marking is a run parameter (``protective_marking:``), free text an organisation
chooses, so it is checked here as one short line of plain text, and every page escapes it: Jinja
for HTML, :func:`css_string` for the ``@page`` margin boxes that print it on each PDF page.
"""

from __future__ import annotations

MAX_LENGTH = 40


def checked_marking(value: str) -> str:
    """Return the marking with surrounding blanks removed; ``ValueError`` if not one short line of text."""
    marking = value.strip()
    if not marking:
        raise ValueError("the protective marking is empty; leave the key out for none")
    if len(marking) > MAX_LENGTH:
        raise ValueError(f"the protective marking is {len(marking)} characters; at most {MAX_LENGTH}")
    if not marking.isprintable():
        raise ValueError("the protective marking must be one line of plain text (no line breaks or tabs)")
    return marking


def css_string(text: str) -> str:
    """Return ``text`` as a quoted CSS string that cannot close its <style> element."""
    out = []
    for char in text:
        if char.isprintable() and char not in '\\"<>&':
            out.append(char)
        else:
            out.append(f"\\{ord(char):x} ")
    return '"' + "".join(out) + '"'
