"""Refusals that people read: an English template, its values, translated where shown.

The domain never imports Flask or Babel, yet what it refuses must reach staff
in Thai and English. So a refusal carries its message as a catalogue template
(marked with ``N_`` for extraction) and the values to put in it; the web
layer translates the template (``web.i18n.explain``), and anything else (the
CLI, logs, tests) reads the English sentence.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it here."""
    return message


class Refused(ValueError):
    """An action that cannot be taken as asked; ``str()`` is the English sentence."""

    def __init__(self, template: str, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)
