"""Canonical views of a text: undo the obfuscations attackers use before a classifier reads it.

A classifier that only sees base64 or rot13 text sees noise. Each view is scored and the
maximum kept, so decoding can only add evidence; a benign text's views stay benign.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata

from refusalkit.charsets import FROM_HOMOGLYPH, FROM_LEET

_B64_TOKEN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_SPACED_WORD = re.compile(r"(?:[\w?!.,][ \-.*])+[\w?!.,]")
_COMMON = {
    "the", "to", "and", "how", "what", "do", "i", "a", "you", "is", "of", "for", "in", "me",
    "make", "can", "my", "with", "write", "give", "tell", "this", "that", "it",
}  # fmt: skip


def english_score(text: str) -> float:
    """Share of words that are very common English words: decoded junk scores near zero."""
    words = re.findall(r"[a-z']+", text.lower())
    return sum(w in _COMMON for w in words) / len(words) if words else 0.0


def _decode_base64(text: str) -> list[str]:
    decoded = []
    for token in _B64_TOKEN.findall(text):
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
            value = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if value.isprintable() and english_score(value) > 0.1:
            decoded.append(value)
    return decoded


def _despace(text: str) -> str:
    """'h-o-w / d-o' or 'h o w  d o' back to 'how do'."""
    words = re.split(r"\s*/\s*|\s{2,}", text.strip())
    if len(words) < 2 or not all(_SPACED_WORD.fullmatch(w) or len(w) == 1 for w in words):
        return text
    return " ".join(re.sub(r"(?<=[\w?!.,])[ \-.*](?=[\w?!.,])", "", w) for w in words)


def _per_line(text: str, decode) -> str | None:
    """Decode the lines that become more English when decoded; None when none do."""
    changed = False
    lines = []
    for line in text.splitlines():
        decoded = decode(line)
        if english_score(decoded) > english_score(line) + 0.15:
            lines.append(decoded)
            changed = True
        else:
            lines.append(line)
    return "\n".join(lines) if changed else None


def views(text: str) -> list[str]:
    """The text itself first, then every decoding that looks like it revealed English."""
    found = [text]
    folded = "".join(FROM_HOMOGLYPH.get(ch, ch) for ch in unicodedata.normalize("NFKC", text))
    candidates = [folded, *_decode_base64(folded)]
    for decode in (lambda line: codecs.decode(line, "rot13"), lambda line: line[::-1]):
        decoded = _per_line(folded, decode)
        if decoded is not None:
            candidates.append(decoded)
    if sum(ch.isdigit() for ch in folded) >= 3:
        candidates.append(folded.lower().translate(FROM_LEET))
    despaced = _despace(folded)
    if despaced != folded:
        candidates.append(despaced)
    for candidate in candidates:
        if candidate and candidate not in found:
            found.append(candidate)
    return found
