"""Search that finds what Indonesian buyers type (#26): "kripik" finds Keripik, "rajutan" Tas Rajut, "bawang gorng"
Bawang Goreng, "kuala tungkal" the facility's products.

Each product keeps its `search_text`: names, category, facility with its city and region, and descriptions, in lower
case, rewritten whenever the product or what it names changes (`refresh_before_flush`, wired by create_app). A query
becomes words; each word becomes the words the catalogue itself uses for it: the word, the cooperative's synonyms
(kripik → keripik), and the closest known words of the catalogue's own vocabulary (gorng → goreng, rajutan → rajut),
so both databases tolerate the same typos and spellings. The database then matches them through its own index:

- PostgreSQL: full-text search with the built-in `indonesian` configuration (Snowball stemming), through a GIN
  index on `to_tsvector('indonesian', search_text)`, each word as a prefix (`kerip:*`);
- SQLite: an FTS5 table with the unicode61 tokenizer and prefix indexes (`product_fts`, kept by triggers on
  `product`): each word matched as the start of a word, as PostgreSQL's prefix queries do.

Both are made by migration and, for create_all, with the product table (`SCHEMA_OBJECTS` names them for the
schema comparisons that must leave them be).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask import g, has_request_context
from sqlalchemy import DDL, ColumnElement, bindparam, case, event, func, or_, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from shop.audit.service import record
from shop.catalog.cache import generation, remembered
from shop.catalog.models import Category, Facility, Product, Region, SearchSynonym
from shop.extensions import db

# The list a new shop starts with (the migration's own copy, and the demo's); the cooperative edits it at
# /staf/sinonim.
DEFAULT_SYNONYMS = [("kripik", "keripik"), ("krupuk", "kerupuk"), ("rajutan", "rajut"), ("tenunan", "tenun"),
                    ("sambel", "sambal"), ("mebel", "kursi meja"), ("tikar", "anyaman")]
MAX_WORDS = 8
MAX_WORD = 40
SCHEMA_OBJECTS = ("product_fts", "ix_product_search_text")  # made here and by migration, not models

POSTGRESQL_DDL = ["CREATE INDEX IF NOT EXISTS ix_product_search_text ON product "
                  "USING gin (to_tsvector('indonesian', search_text))"]
SQLITE_DDL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS product_fts USING fts5(search_text, content='product', "
    "content_rowid='id', tokenize='unicode61', prefix='2 3')",
    "CREATE TRIGGER IF NOT EXISTS product_fts_insert AFTER INSERT ON product BEGIN "
    "INSERT INTO product_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS product_fts_delete AFTER DELETE ON product BEGIN "
    "INSERT INTO product_fts(product_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS product_fts_update AFTER UPDATE OF search_text ON product BEGIN "
    "INSERT INTO product_fts(product_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO product_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
SQLITE_TRIGGERS = ("product_fts_insert", "product_fts_delete", "product_fts_update")

for _statement in POSTGRESQL_DDL:
    event.listen(Product.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in SQLITE_DDL:
    event.listen(Product.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
event.listen(Product.__table__, "before_drop", DDL("DROP TABLE IF EXISTS product_fts").execute_if(dialect="sqlite"))


# -- what a product is found by

def fold(value: str) -> str:
    """Lower case, accents and punctuation gone: "Manik-manik" → "manik manik"."""
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


def document(product: Product) -> str:
    facility, category = product.facility, product.category
    region = facility.region if facility is not None else None
    parts = [product.name_id, product.name_en, category.name_id if category else "", category.name_en if category
             else "", facility.name if facility else "", facility.city if facility else "",
             region.name if region else "", region.city if region else "", product.description_id,
             product.description_en]
    return fold(" ".join(part or "" for part in parts))


PRODUCT_WORDS = ("name_id", "name_en", "description_id", "description_en", "facility_id", "category_id")


def _named(obj: Any, columns: tuple[str, ...]) -> bool:
    """Whether this flush changes a column the search text is made of (a stock or price change does not)."""
    state = sa_inspect(obj)
    return any(state.attrs[column].history.has_changes() for column in columns)


def refresh_before_flush(session: Session, _context: Any, _instances: Any) -> None:
    """Rewrite the search text of every product this flush adds or changes, and of the products of every facility,
    category or region it changes (their names are in it)."""
    dirty = session.dirty  # computed afresh on each read: once per flush
    changed = [obj for obj in session.new if isinstance(obj, Product)]
    changed += [obj for obj in dirty if isinstance(obj, Product) and _named(obj, PRODUCT_WORDS)]
    facilities = {obj.id for obj in dirty if isinstance(obj, Facility) and obj.id and
                  _named(obj, ("name", "city", "region_id"))}
    categories = {obj.id for obj in dirty if isinstance(obj, Category) and obj.id and
                  _named(obj, ("name_id", "name_en"))}
    regions = {obj.id for obj in dirty if isinstance(obj, Region) and obj.id and _named(obj, ("name", "city"))}
    if facilities or categories or regions:
        with session.no_autoflush:
            changed += session.scalars(select(Product).join(Facility).where(or_(
                Product.facility_id.in_(facilities), Product.category_id.in_(categories),
                Facility.region_id.in_(regions)))).all()
    with session.no_autoflush:
        for product in changed:
            if product.facility is None and product.facility_id:
                product.facility = session.get(Facility, product.facility_id)
            if product.category is None and product.category_id:
                product.category = session.get(Category, product.category_id)
            text_now = document(product)
            if product.search_text != text_now:
                product.search_text = text_now


def reindex(batch: int = 500) -> int:
    """Rewrite every product's search text (after rows were written past the ORM, e.g. a bulk import); returns how
    many changed. Flushes, never commits."""
    changed, last = 0, 0
    while True:
        products = db.session.scalars(select(Product).where(Product.id > last).order_by(Product.id)
                                      .limit(batch)).all()
        if not products:
            return changed
        for product in products:
            text_now = document(product)
            if product.search_text != text_now:
                product.search_text, changed = text_now, changed + 1
        db.session.flush()
        last = products[-1].id


# -- the cooperative's synonyms

class SynonymInvalid(ValueError):
    """The text is the problem's key: term (one word, at most 60 letters), means (at most 120), same, exists."""


def add_synonym(term: str, means: str, *, actor: Any) -> SearchSynonym:
    """A word buyers type (one word) and the catalogue's word(s) for it; both folded (lower case, no accents)."""
    folded_term, folded_means = fold(term), fold(means)
    if not folded_term or " " in folded_term or len(folded_term) > 60:
        raise SynonymInvalid("term")
    if not folded_means or len(folded_means) > 120:
        raise SynonymInvalid("means")
    if folded_term == folded_means:
        raise SynonymInvalid("same")
    if db.session.scalar(select(SearchSynonym).where(SearchSynonym.term == folded_term)) is not None:
        raise SynonymInvalid("exists")
    synonym = SearchSynonym(term=folded_term, means=folded_means)
    db.session.add(synonym)
    db.session.flush()
    record("search_synonym.add", synonym, None, {"term": folded_term, "means": folded_means}, actor=actor)
    return synonym


def remove_synonym(synonym: SearchSynonym, *, actor: Any) -> None:
    record("search_synonym.remove", synonym, {"term": synonym.term, "means": synonym.means}, None, actor=actor)
    db.session.delete(synonym)
    db.session.flush()


# -- what a query means

@dataclass(frozen=True)
class Query:
    words: tuple[str, ...]  # as typed, folded
    meanings: tuple[tuple[str, ...], ...]  # per word: the catalogue's words it stands for

    @property
    def terms(self) -> list[str]:
        """Every word to highlight (two letters or more), longest first."""
        return sorted({term for meaning in self.meanings for term in meaning if len(term) >= 2}, key=len,
                      reverse=True)


def words_of(typed: str) -> list[str]:
    """The words of a query, whatever it holds (quotes, %, tsquery operators, NUL …): letters and digits only."""
    return [word[:MAX_WORD] for word in fold(typed.replace("\x00", " ")).split()][:MAX_WORDS]


@dataclass(frozen=True)
class Vocabulary:
    """The words of the catalogue worth guessing from (three letters or more, not numbers), by first letter."""

    words: frozenset[str]
    by_letter: dict[str, list[str]]


_VOCABULARY: dict[int, Vocabulary] = {}  # this process's, for the catalog generation it was read in


def vocabulary() -> Vocabulary:
    """Read once per catalog generation and process (the catalog cache holds the words for other processes)."""
    current = generation()
    if current not in _VOCABULARY:
        def build() -> list[str]:
            seen: set[str] = set()
            for row in db.session.scalars(select(Product.search_text).where(Product.active.is_(True))):
                seen.update(word for word in row.split() if len(word) >= 3 and not word.isdigit())
            return sorted(seen)
        words = remembered("search:vocabulary", build)
        by_letter: dict[str, list[str]] = {}
        for word in words:
            by_letter.setdefault(word[0], []).append(word)
        _VOCABULARY.clear()
        _VOCABULARY[current] = Vocabulary(frozenset(words), by_letter)
    return _VOCABULARY[current]


def synonyms() -> dict[str, tuple[str, ...]]:
    def build() -> dict[str, tuple[str, ...]]:
        return {row.term: tuple(fold(row.means).split()) for row in db.session.scalars(select(SearchSynonym))}
    return remembered("search:synonyms", build)


SUFFIXES = ("nya", "kan", "an", "i")  # rajutannya → rajutan → rajut, tenunan → tenun


def stems(word: str) -> set[str]:
    found, todo = set(), [word]
    while todo:
        current = todo.pop()
        for end in SUFFIXES:
            if current.endswith(end) and len(current) - len(end) >= 4 and current[:-len(end)] not in found:
                found.add(current[:-len(end)])
                todo.append(current[:-len(end)])
    return found


def understand(typed: str) -> Query:
    """What `typed` means, read once per request (the list and the page both ask)."""
    memo = g.setdefault("search_understood", {}) if has_request_context() else {}
    if typed not in memo:
        memo[typed] = _understand(typed)
    return memo[typed]


def _understand(typed: str) -> Query:
    """Each word with the catalogue's words for it: its synonyms, its stems where the catalogue has them (rajutan →
    rajut); and, when the catalogue uses neither the word nor a synonym, the closest known words that start with the
    same letter (gorng → goreng, klapa → kelapa, tass → tas). Each is then matched as the start of a word."""
    words = words_of(typed)
    known, same = vocabulary(), synonyms()
    meanings = []
    for word in words:
        meaning = {word, *same.get(word, ()), *(stems(word) & known.words)}
        if not meaning & known.words and len(word) >= 3 and not word.isdigit():
            near = [other for other in known.by_letter.get(word[0], ()) if abs(len(other) - len(word)) <= 2]
            meaning.update(difflib.get_close_matches(word, near, n=3, cutoff=0.82))
        meanings.append(tuple(sorted(meaning)))
    return Query(tuple(words), tuple(meanings))


def did_you_mean(query: Query) -> str:
    """The closest known words to what was typed, or "" when nothing is close."""
    known = vocabulary()
    guessed = [next(iter(difflib.get_close_matches(word, sorted(known.words), n=1, cutoff=0.6)), word)
               for word in query.words]
    return " ".join(guessed) if guessed != list(query.words) else ""


# -- matching in the database

def condition(query: Query, dialect: str, *, any_word: bool = False) -> ColumnElement[bool]:
    """Products that have every word (or, `any_word`, one of them), each word as any of the words it stands for,
    matched as the start of a word: one index lookup for the whole query (terms hold letters and digits only)."""
    if dialect == "postgresql":  # the GIN index's own expression, so the index serves it; stemmed, as a prefix
        joined = (" | " if any_word else " & ").join(
            "(" + " | ".join(f"{term}:*" for term in meaning) + ")" for meaning in query.meanings)
        vector = func.to_tsvector(text("'indonesian'::regconfig"), Product.search_text)
        return vector.op("@@")(func.to_tsquery(text("'indonesian'::regconfig"), joined))
    joined = (" OR " if any_word else " AND ").join(
        "(" + " OR ".join(f'"{term}"*' for term in meaning) + ")" for meaning in query.meanings)
    return Product.id.in_(select(text("rowid")).select_from(text("product_fts")).where(
        text("product_fts MATCH :fts").bindparams(bindparam("fts", joined, unique=True))))


def name_first(query: Query) -> Any:
    """An order key: products whose name holds a word of the query first."""
    if not query.terms:  # one-letter words only: nothing to rank by
        return Product.id.is_(None)
    name = func.lower(Product.name_id + " " + Product.name_en)
    return case((or_(*[name.contains(term, autoescape=True) for term in query.terms]), 0), else_=1)


_CARD_TEXT = (("<h3>", "</h3>"), ('<p class="facility-name">', "</p>"))  # a card's name and its facility
_REFERENCE = re.compile(r"(&#?\w+;)")


def highlighter(query: Query) -> Any:
    """A function that marks (<mark>) the query's words in a card's name and facility, the rest of its HTML as it
    was; made once for all the cards of a page."""
    if not query.terms:
        return lambda html: html
    pattern = re.compile("|".join(re.escape(term) for term in query.terms), re.IGNORECASE)

    def marked(match: re.Match[str]) -> str:  # a function, not a template: Python expands no template per match
        return f"<mark>{match[0]}</mark>"

    def words(segment: str) -> str:  # text without tags; its character references (&amp;) are left whole
        if "&" not in segment:
            return pattern.sub(marked, segment)
        return "".join(piece if piece.startswith("&") else pattern.sub(marked, piece)
                       for piece in _REFERENCE.split(segment))

    def mark(html: str) -> str:
        for opening, closing in _CARD_TEXT:
            start = html.find(opening)
            end = html.find(closing, start + len(opening)) if start >= 0 else -1
            inner = html[start + len(opening):end] if end >= 0 else "<"
            if "<" not in inner:  # plain text, as the card writes it
                html = f"{html[:start + len(opening)]}{words(inner)}{html[end:]}"
        return html

    return mark

