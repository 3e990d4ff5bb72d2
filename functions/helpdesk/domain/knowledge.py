"""Knowledge-base articles and search: the bot answers routine questions with the best article.

Ranking is SQLite FTS5's built-in ``bm25()`` (standard-library ``sqlite3``, in-memory, no extra
packages in the Lambda layer): title, tags and body are indexed with the ``porter unicode61``
tokenizer and the title and tags weigh more than the body. The index is built on the first search,
never at import.

BM25 scores only order the articles; they can't say whether the best one answers the question. That
is the ``confidence`` (0..1): how much of what the customer asked the article covers. Each content
word of the question weighs its BM25 IDF; the confidence is the share of that weight the article
matches, a match in the body only counting for less than one in the title or tags. A word no article
contains weighs as much as the rarest word one does, so "my item arrived damaged" finds no
confident answer without an article on damage, however well "item" matches. ``best_answer``
returns the top hit only when its confidence reaches the threshold.

Customer text never reaches FTS5 as syntax: it is cut into words, stop words are dropped, and each
word is quoted as a string, so ``"``, ``*``, ``NEAR``, ``-`` or ``:`` are just text.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from helpdesk.domain.workspace import Slug

DEFAULT_LOCALE = "en"
DEFAULT_THRESHOLD = 0.5
"""Chosen on the labelled questions in ``tests/unit/knowledge_questions.yaml``."""

LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
MAX_QUERY_CHARS = 2_000
"""Only the start of a longer message is searched."""
MAX_QUERY_TERMS = 32
MAX_WORD_LENGTH = 40
MAX_LIMIT = 50

TITLE_WEIGHT = 4.0
TAGS_WEIGHT = 3.0
BODY_WEIGHT = 1.0
BODY_ONLY_MATCH = 0.6
"""A question word found only in an article's body counts this much towards the confidence."""
SPELLING_CUTOFF = 0.85
"""How similar (``difflib`` ratio) an unknown word must be to an article word to be read as a typo of it."""

_WORD = re.compile(r"\w+")
_APOSTROPHES = re.compile(r"['\u2019]")

# Words that say nothing about what the customer needs: function words and chat filler.
_STOP_WORD_LIST = """
    a about above after again against all am an and any are arent as at be been before being below between both
    but by can cant could couldnt did didnt do does doesnt doing dont down during each either else ever every few
    for from further get gets getting got had hadnt has hasnt have havent having he hed hes her here hers herself
    him himself his how hows i id ill im ive if in into is isnt it its itself just lets me might more most must
    mustnt my myself no nor not now of off on once only or other ought our ours ourselves out over own same shall
    shant she shed shes should shouldnt so some still such than that thats the their theirs them themselves then
    there theres these they theyd theyll theyre theyve this those through to too under until up upon us very was
    wasnt we wed well were weve werent what whats when whens where wheres whether which while who whos whom why
    whys will with wont would wouldnt you youd youll youre youve your yours yourself yourselves u ur r pls plz
    please thanks thank thx hi hello hey hiya dear morning afternoon evening ok okay yes yeah sure also really
    want wanted wanting need needed needs like know tell ask asking question questions help wondering wonder
    anyone someone something anything thing things one way much many take takes taking took
    once come comes came coming certain mean means meaning
    aber alle als am an auch auf aus bei bin bis bitte bist da dann das dass dem den der des die dies diese
    dieser du ein eine einem einen einer eines er es für hab habe haben hallo hat ich ihr ihre im in ist ja
    kann kein keine können man mein meine meinen mich mir mit muss nach nicht noch nur oder sein sich sie sind
    so über um und uns unser vom von vor war was wenn wer wie wir wird wo zu zum zur danke guten tag
"""
_STOP_WORDS = frozenset(_STOP_WORD_LIST.split())


class Article(BaseModel):
    """One knowledge-base article: what the bot sends when it is the best answer to a question."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Slug
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=5000)
    """Markdown-ish text, sent to the customer as it is."""
    tags: tuple[Annotated[str, Field(min_length=1, max_length=60)], ...] = ()
    """Words and phrases customers use for the topic; they weigh more than the body."""
    locale: str = Field(default=DEFAULT_LOCALE, pattern=LOCALE_PATTERN)
    """BCP-47 language tag: ``en``, ``de``, ``en-GB``."""
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https://\S+$")
    """Where the full article lives on the business's help site; without it the messenger shows it."""

    @property
    def language(self) -> str:
        return language_of(self.locale)


class KnowledgeHit(BaseModel):
    """An article found for a question. ``score`` is BM25 (higher is better); ``confidence`` is 0..1."""

    model_config = ConfigDict(frozen=True)

    article: Article
    score: float
    confidence: float = Field(ge=0.0, le=1.0)


def language_of(locale: str) -> str:
    """The primary language of a BCP-47 tag: ``en-GB`` -> ``en``."""
    return locale.split("-", 1)[0].strip().lower()


def _words(text: str) -> list[str]:
    return _WORD.findall(_APOSTROPHES.sub("", text.lower()))


def _says_nothing(word: str) -> bool:
    """Stop words, single letters, and numbers or codes (order numbers, postcodes, "3 months")."""
    return word in _STOP_WORDS or len(word) < 2 or len(word) > MAX_WORD_LENGTH or any(c.isdigit() for c in word)


def _quoted(term: str) -> str:
    """An FTS5 string: whatever is inside is matched as text, never read as query syntax."""
    return '"' + term.replace('"', '""') + '"'


@dataclass(frozen=True)
class _Term:
    word: str
    documents: frozenset[int]
    """Row ids of the articles containing the word anywhere."""
    in_title_or_tags: frozenset[int]
    weight: float
    """What the word weighs in the confidence: its BM25 IDF over all articles."""


def _idf(total: int, count: int) -> float:
    return math.log(1.0 + (total - count + 0.5) / (count + 0.5))


class _Index:
    """One FTS5 table over the articles of one language (or all of them), with its own statistics."""

    def __init__(self, connection: sqlite3.Connection, table: str, articles: tuple[Article, ...]) -> None:
        self._connection = connection
        self._table = table
        self.articles = articles
        connection.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5(title, tags, body, "
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        connection.executemany(
            f"INSERT INTO {table} (rowid, title, tags, body) VALUES (?, ?, ?, ?)",  # noqa: S608 - our own table name
            [(row, a.title, " ; ".join(a.tags), a.body) for row, a in enumerate(articles)],
        )
        self.vocabulary = sorted({w for a in articles for w in _words(" ".join((a.title, *a.tags, a.body)))})

    def rows(self, word: str, *, title_or_tags: bool = False) -> frozenset[int]:
        """The articles containing ``word`` (a single word, or words that must follow each other)."""
        match = ("{title tags} : " if title_or_tags else "") + _quoted(word)
        cursor = self._connection.execute(f"SELECT rowid FROM {self._table} WHERE {self._table} MATCH ?", (match,))  # noqa: S608
        return frozenset(row for (row,) in cursor)

    def rank(self, phrases: Iterable[str], limit: int) -> list[tuple[int, float]]:
        """Articles by BM25 over any of ``phrases``, best first; the score is positive, higher is better."""
        match = " OR ".join(_quoted(phrase) for phrase in phrases)
        if not match:
            return []
        cursor = self._connection.execute(
            f"SELECT rowid, bm25({self._table}, ?, ?, ?) AS rank FROM {self._table} "  # noqa: S608
            f"WHERE {self._table} MATCH ? ORDER BY rank LIMIT ?",
            (TITLE_WEIGHT, TAGS_WEIGHT, BODY_WEIGHT, match, limit),
        )
        return [(row, -rank) for row, rank in cursor]


class KnowledgeBase:
    """Searches articles with the customer's words; answers only when confident.

    ``threshold`` is the confidence ``best_answer`` needs (0..1). Nothing is built until the first search.
    """

    def __init__(self, articles: Iterable[Article], *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.articles = tuple(articles)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold: must be between 0 and 1, got {threshold}")
        seen: set[str] = set()
        for article in self.articles:
            if article.id in seen:
                raise ValueError(f"articles: the id '{article.id}' is used by more than one article")
            seen.add(article.id)
        self.threshold = threshold
        self.languages = frozenset(a.language for a in self.articles)
        self._lock = threading.Lock()
        self._indexes: dict[str | None, _Index] | None = None

    def article(self, article_id: str) -> Article | None:
        return next((a for a in self.articles if a.id == article_id), None)

    def search(self, query: str, *, locale: str | None = None, limit: int = 3) -> list[KnowledgeHit]:
        """The best articles for ``query``, best first, in the customer's language (``None``: any language)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit: must be between 1 and {MAX_LIMIT}, got {limit}")
        if not self.articles:
            return []
        with self._lock:
            indexes = self._indexes if self._indexes is not None else self._build()
            self._indexes = indexes
            index = indexes[self._language_for(locale)]
            words = _words(query[:MAX_QUERY_CHARS])
            terms = self._terms(index, indexes[None], words)
            if not any(t.documents for t in terms):  # nothing the customer said is in any article
                return []
            ranked = index.rank(self._phrases(terms, words), limit)
        total = sum(t.weight for t in terms)
        hits = []
        for row, score in ranked:
            covered = sum(
                t.weight * (1.0 if row in t.in_title_or_tags else BODY_ONLY_MATCH) for t in terms if row in t.documents
            )
            confidence = min(1.0, covered / total) if total else 0.0
            hits.append(KnowledgeHit(article=index.articles[row], score=score, confidence=confidence))
        return hits

    def best_answer(self, query: str, *, locale: str | None = None) -> KnowledgeHit | None:
        """The best article if its confidence reaches the threshold, else ``None`` (hand over to a person)."""
        hits = self.search(query, locale=locale, limit=1)
        if hits and hits[0].confidence >= self.threshold:
            return hits[0]
        return None

    def _language_for(self, locale: str | None) -> str | None:
        """The language whose articles answer: the customer's, else English, else any (``None``)."""
        if locale is None:
            return None
        language = language_of(locale)
        if language in self.languages:
            return language
        return DEFAULT_LOCALE if DEFAULT_LOCALE in self.languages else None

    def _build(self) -> dict[str | None, _Index]:
        connection = sqlite3.connect(":memory:", check_same_thread=False)
        try:
            indexes: dict[str | None, _Index] = {None: _Index(connection, "kb_all", self.articles)}
            for number, language in enumerate(sorted(self.languages)):
                articles = tuple(a for a in self.articles if a.language == language)
                indexes[language] = _Index(connection, f"kb_{number}", articles)
        except sqlite3.OperationalError as error:  # pragma: no cover - depends on how Python's SQLite was built
            raise RuntimeError(f"knowledge base: SQLite FTS5 is not available ({error})") from error
        return indexes

    @staticmethod
    def _terms(index: _Index, everything: _Index, words: list[str]) -> list[_Term]:
        """The content words of the question, typos read as the article word they're closest to."""
        total = len(everything.articles)
        rarest = _idf(total, 1)
        terms: dict[str, _Term] = {}
        for word in words:
            if len(terms) >= MAX_QUERY_TERMS:
                break
            if _says_nothing(word) or word in terms:
                continue
            documents = index.rows(word)
            if not documents and len(word) >= 4:
                close = difflib.get_close_matches(word, index.vocabulary, n=1, cutoff=SPELLING_CUTOFF)
                if close and close[0] not in _STOP_WORDS and close[0] not in terms:
                    word, documents = close[0], index.rows(close[0])
            if documents:
                weight = _idf(total, len(everything.rows(word)))
                in_title_or_tags = index.rows(word, title_or_tags=True)
            else:
                weight, in_title_or_tags = rarest, frozenset()  # a topic we have no article on, or a product name
            terms[word] = _Term(word, documents, in_title_or_tags, weight)
        return list(terms.values())

    @staticmethod
    def _phrases(terms: list[_Term], words: list[str]) -> list[str]:
        """What BM25 ranks on: the content words, and each pair of neighbouring words as a phrase.

        The pairs keep what stop words mean together ("where is", "log in") and reward articles whose
        title or tags say it the way the customer did."""
        phrases = [t.word for t in terms if t.documents]
        pairs = dict.fromkeys(f"{first} {second}" for first, second in itertools.pairwise(words))
        return phrases + list(pairs)[:MAX_QUERY_TERMS]
