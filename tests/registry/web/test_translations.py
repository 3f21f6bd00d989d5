"""Every user-facing string has a Thai translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = ROOT / "registry" / "translations" / "th" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}


def extracted() -> set[str]:
    found: set[str] = set()
    for folder, method in (("registry", "python"), ("templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _, _, message, _, _ in extract_from_dir(
            str(ROOT / folder), method_map=[(pattern, method)], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_thai_catalogue_is_complete():
    with CATALOGUE.open("rb") as fh:
        catalogue = read_po(fh, locale="th")
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {key!r}"
        assert not message.fuzzy, f"fuzzy: {key!r}"
        translated[key] = strings
    strings = extracted()
    assert len(strings) > 40, "extraction found too few strings"
    missing = strings - set(translated)
    assert not missing, f"strings not in the Thai catalogue (run `make translations`): {missing}"
