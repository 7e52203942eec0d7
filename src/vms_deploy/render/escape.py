"""Escaping for the text formats plan values are written into (Markdown, CSV).

The validator refuses hostile names (issue 13), but renderers also run on plan.json files that did
not come through it, so each output format is escaped for itself: a name can never end a table
cell, start a new line, become HTML in a Markdown viewer, or a formula in a spreadsheet.
"""
from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters Markdown (GitHub/GitLab flavoured) gives a meaning inside a table cell or inline text that
# could change what the sheet says: cell ends, code spans, links, emphasis; '<' only where it opens raw
# HTML (a letter, '/', '!' or '?' after it), '>' only at the start (a quote). Nothing else is escaped,
# so ordinary text ("tcp 80 -> 9080", "a < b") reads the same as plain text: a printed sheet shows no
# backslashes. '_' and '-' are left alone: inside names GFM gives them no meaning, and every service
# name has them. '!' needs nothing: an image needs '[' after it, which is escaped.
_MARKDOWN = re.compile(r"([\\`*\[\]|])|<(?=[A-Za-z/!?])|^>")
# A spreadsheet treats a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def one_line(value) -> str:
    return _CONTROL.sub(" ", str(value))


def md(value) -> str:
    """Text safe inside a Markdown table cell or heading: one line, every markup that could change it escaped."""
    return _MARKDOWN.sub(lambda m: "\\" + m.group(0), one_line(value))


def csv_cell(value) -> str:
    """A CSV cell no spreadsheet evaluates: one line, a leading formula character quoted with '."""
    text = one_line(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
