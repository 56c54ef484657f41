"""Argument templates: ``{labels.NAME}`` and ``{fingerprint}`` placeholders filled into argv elements.

Each argv element is rendered on its own and passed to ``exec`` as one argument: no shell ever sees
it. A label value used in a template must match the action's ``label_pattern`` and, whatever the
pattern, must not start with ``-`` (it would read as an option), contain ``..`` or any control
character. ``{{`` and ``}}`` stand for literal braces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

DEFAULT_LABEL_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.:/@-]{0,199}"
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class TemplateError(ValueError):
    """An argument template is malformed (raised when the configuration is loaded)."""


class UnsafeValueError(ValueError):
    """A label value cannot be placed into an argument; the message says which and why."""


def placeholders(template: str) -> list[str]:
    """The placeholder names used in ``template`` (``labels.x`` or ``fingerprint``), validated."""
    names: list[str] = []
    for match in _TOKEN.finditer(template):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        name = match.group(1)
        if name is None:
            raise TemplateError(f"unbalanced brace in {template!r}: write {{{{ or }}}} for a literal brace")
        if name == "fingerprint" or (name.startswith("labels.") and _LABEL_NAME.fullmatch(name[7:])):
            names.append(name)
            continue
        accepted = "{labels.NAME}, {fingerprint}"
        raise TemplateError(f"unknown placeholder {{{name}}} in {template!r}; accepted: {accepted}")
    return names


def check_value(label: str, value: str, pattern: re.Pattern[str]) -> str:
    """Return ``value`` if it is safe as (part of) an argument, else raise :class:`UnsafeValueError`."""
    if value.startswith("-"):
        raise UnsafeValueError(f"label {label} value {value!r} starts with '-' (argument injection)")
    if _CONTROL.search(value):
        raise UnsafeValueError(f"label {label} value {value!r} contains a control character")
    if ".." in value:
        raise UnsafeValueError(f"label {label} value {value!r} contains '..'")
    if not pattern.fullmatch(value):
        raise UnsafeValueError(f"label {label} value {value!r} does not match {pattern.pattern!r}")
    return value


def render_argv(
    templates: Sequence[str], labels: Mapping[str, str], fingerprint: str, pattern: re.Pattern[str]
) -> list[str]:
    """Render every argv template; raises :class:`UnsafeValueError` for a missing or unsafe label."""

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = match.group(1)
        if name == "fingerprint":
            return fingerprint
        label = name[len("labels."):]
        if label not in labels:
            raise UnsafeValueError(f"the alert has no label {label} (used by the action's arguments)")
        return check_value(label, labels[label], pattern)

    return [_TOKEN.sub(substitute, template) for template in templates]
