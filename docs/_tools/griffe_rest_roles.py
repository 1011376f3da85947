"""A Griffe extension: render the reST markup in dq-sdk's docstrings as Markdown.

The docstrings are read in the editor and by ``help()`` as much as on the site, so they keep
Sphinx's ``:class:`Name``` roles and ``text::`` literal blocks. mkdocstrings renders Markdown,
so this turns a role into inline code (the target's last part for ``~`` targets, the title for
``Title <target>``) and a trailing ``::`` into ``:`` (the indented block after it is already a
code block in Markdown). It also reads Sphinx's ``#:`` doc comments (see :class:`DocComments`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const):`(?P<body>[^`]+)`")
_LITERAL = re.compile(r"(?<=\S)::$", re.M)
_ALONE_LITERAL = re.compile(r"^(\s*)::$", re.M)


def _role_text(match: re.Match[str]) -> str:
    body = match["body"]
    titled = re.fullmatch(r"(?P<title>.+?)\s*<[^>]+>", body)
    if titled:
        body = titled["title"]
    elif body.startswith("~"):
        body = body[1:].rsplit(".", 1)[-1]
    return f"`{body}`"


def markdown(text: str) -> str:
    """The docstring ``text`` with its reST roles and literal-block markers as Markdown."""
    text = _ROLE.sub(_role_text, text)
    text = _ALONE_LITERAL.sub(r"\1", text)
    return _LITERAL.sub(":", text)


class RestRoles(griffe.Extension):
    """Rewrites every docstring as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)


class DocComments(griffe.Extension):
    """Reads Sphinx's ``#:`` doc comments above a module attribute or type alias as its docstring.

    dq-sdk documents constants and type aliases (``OnError``, ``TopicSpec``, ``Buffer``...) the
    way Sphinx reads them; Griffe reads only a string after the assignment.
    """

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        if attr.docstring is not None or attr.lineno is None:
            return
        lines = _source_lines(str(attr.filepath))
        index = attr.lineno - 2  # the line above the assignment, 0-based
        comment: list[str] = []
        while index >= 0 and lines[index].lstrip().startswith("#:"):
            comment.insert(0, lines[index].lstrip()[2:].strip())
            index -= 1
        if comment:
            attr.docstring = griffe.Docstring(
                markdown(" ".join(comment)), lineno=index + 2, parent=attr
            )


@functools.cache
def _source_lines(path: str) -> list[str]:
    return Path(path).read_text(encoding="utf-8").splitlines()
