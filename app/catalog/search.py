"""Normalised keys of a listing: search tokens, model and brand keys, the duplicate-listing key.

There are no text indexes on the embedded server: each product keeps a lower-cased token array
(words of title, brand, models), and search matches every query word as a prefix of one of
them (in the browse read model, readmodel.py).
"""

import hashlib
import re

_WORD = re.compile(r"[^\W_]+")
MAX_QUERY_WORDS = 8


def normalise(text: str) -> str:
    """Case- and whitespace-insensitive form of a name: 'iPhone  13 ' -> 'iphone 13'."""
    return " ".join(text.casefold().split())


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def model_keys(models: list[str]) -> list[str]:
    return sorted({normalise(model) for model in models})


def unique_models(models: list[str]) -> list[str]:
    """The models as given, without case/whitespace duplicates, in their first spelling."""
    seen: dict[str, str] = {}
    for model in models:
        seen.setdefault(normalise(model), " ".join(model.split()))
    return list(seen.values())


def search_tokens(title: str, brand: str, models: list[str]) -> list[str]:
    tokens = set(words(title)) | set(words(brand))
    for model in models:
        tokens |= set(words(model))
    return sorted(tokens)


def listing_key(brand: str, title: str, models: list[str]) -> str:
    """One value per (brand, title, set of models), whatever the case, spacing or order."""
    canonical = "\x1f".join([normalise(brand), normalise(title), *model_keys(models)])
    return hashlib.sha256(canonical.encode()).hexdigest()


def sku_key(sku: str) -> str:
    return sku.strip().casefold()


def query_terms(q: str) -> list[str]:
    """The distinct words of a search query (at most MAX_QUERY_WORDS), each a token prefix."""
    return list(dict.fromkeys(words(q)))[:MAX_QUERY_WORDS]
