"""The exchange reader: a request read with its answer, for finished exchanges (reader.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from refusalkit.faces import lazy_face

if TYPE_CHECKING:
    from refusalkit.classifiers.exchange_reader.reader import ExchangeReader as ExchangeReader
    from refusalkit.classifiers.exchange_reader.reader import re_asked as re_asked

_FACE = {
    "ExchangeReader": "refusalkit.classifiers.exchange_reader.reader",
    "re_asked": "refusalkit.classifiers.exchange_reader.reader",
}
__all__ = sorted(_FACE)
__getattr__ = lazy_face(__name__, _FACE)
