"""Character tables shared by the attacks synth writes and the views the classifiers undo."""

from __future__ import annotations

# Latin letters and look-alike Cyrillic/Greek code points.
HOMOGLYPHS = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "i": "і",
    "A": "Α", "B": "Β", "E": "Ε", "H": "Η", "K": "Κ", "M": "Μ", "O": "Ο", "T": "Τ",
}  # fmt: skip
FROM_HOMOGLYPH = {v: k for k, v in HOMOGLYPHS.items()}

LEET = str.maketrans({"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "l": "1"})
# Reading leetspeak back takes a wider table than writing it: attackers also use @ and $.
FROM_LEET = str.maketrans(
    {"4": "a", "3": "e", "1": "i", "0": "o", "5": "s", "7": "t", "@": "a", "$": "s"}
)
