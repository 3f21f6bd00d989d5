"""WCAG AA contrast (4.5:1 for text) for every colour pair the stylesheet uses."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[3] / "registry" / "static" / "accredit.css"


def luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_colours_meet_wcag_aa():
    css = CSS.read_text()
    variables = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{3,6})", css))

    def colour(value: str) -> str:
        found = re.match(r"var\(--([a-z]+)\)", value)
        return variables[found.group(1)] if found else value

    pairs = [(variables["ink"], "#ffffff"), (variables["muted"], "#ffffff")]
    pairs.append((variables["brand"], "#ffffff"))  # links, and white on the buttons
    for background, foreground in re.findall(
        r"\.status-[^{]*\{[^}]*background:\s*(#[0-9a-fA-F]{3,6});\s*color:\s*([^;]+);", css
    ):
        pairs.append((colour(foreground.strip()), background))
    for background in re.findall(r"\.answer[^{]*\{[^}]*background:\s*(#[0-9a-fA-F]{3,6})", css):
        pairs += [(variables["ink"], background), (variables["muted"], background)]
    assert len(pairs) > 10
    for foreground, background in pairs:
        ratio = contrast(foreground, background)
        assert ratio >= 4.5, f"{foreground} on {background}: {ratio:.2f}:1"
