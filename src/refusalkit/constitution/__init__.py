"""Constitutions: natural-language rules of what is restricted and what must stay permitted."""

from refusalkit.constitution.loader import builtin_constitutions, load_constitution
from refusalkit.constitution.schema import Category, Constitution, PermittedCategory

__all__ = [
    "Category",
    "Constitution",
    "PermittedCategory",
    "builtin_constitutions",
    "load_constitution",
]
