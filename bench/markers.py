"""Where a benchmark writes its table: between its two markers in a Markdown file (a section
with ``heading`` is added at the end the first time)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_between"]


def write_between(doc: Path, start: str, end: str, text: str, heading: str) -> None:
    """Put ``text`` (which begins with ``start`` and ends with ``end``) in place of what is
    between the markers in ``doc``, or add it under ``heading`` when they are not there yet."""
    current = doc.read_text()
    if start in current:
        before, rest = current.split(start, 1)
        current = before + text + rest.split(end, 1)[1]
    else:
        current += f"\n## {heading}\n\n{text}\n"
    doc.write_text(current)
