"""Questions in, cited snippets out: the one entry point the bot and the command line share."""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.aliases import expand
from index.answer_types import DATE, NUMBER, announces, expected_type, holds, list_items
from index.articles import Article
from index.chunking import Span
from index.disagreement import DATED, differences
from index.embedding import Embedder
from index.errors import QuestionError
from index.lexical import terms
from index.reader import Reader
from index.storage import StoredIndex

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500

# Corroboration (Answerer._corroborate), set on the eval corpora's cross-outlet sentence pairs: the
# same fact told in other words scored 0.71-0.79 and shared 4-13 less common words; unrelated pairs
# above 0.70 shared at most 2.
CORROBORATE_COSINE = 0.70
QUOTE_COSINE = 0.90
CORROBORATE_TERMS = 4
RARE_SHARE = 0.2  # a word in fewer than this share of chunks counts as less common
CORROBORATE_CHUNKS = 8
# Two cited snippets of different outlets tell the same fact with different values (a disagreement)
# when their sentences share at least this many words besides the values themselves (the harbour
# ballot, "87 per cent ... backing a strike" / "91 per cent ... voted for strike action", shares 5),
# are not about two differently named things ("The Tern, which can carry 90 passengers" / "The
# Guillemot, which can carry 120"), and the values are amounts: sentences about two events of one
# story share many words and each has its date, so dates are compared only between sentences that
# corroboration pairs as the same fact.
DISAGREE_TERMS = 5
_LEADING_WORD = re.compile(r"(?:The |A |An )?(?P<word>[A-Z][a-z]+)\b")


@dataclass(frozen=True)
class Source:
    """Where a snippet comes from: the article and the snippet's offsets in its cleaned text."""

    article_id: str
    title: str | None
    outlet: str | None
    date: str | None
    url: str | None
    start: int
    end: int
    # False when this article reports the snippet's fact in its own words, at start..end, rather
    # than carrying the same passage (see Answerer._corroborate).
    same_passage: bool = True

    def label(self) -> str:
        """A citation as a reader expects it: outlet, “title”, date; unknown parts left out."""
        parts = [self.outlet or "", f"“{self.title}”" if self.title else self.article_id, self.date or ""]
        return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class Version:
    """One outlet's value of a fact the outlets disagree on: as written, and where."""

    value: str
    source: Source
    start: int  # the value's offsets in that article's cleaned text
    end: int


@dataclass(frozen=True)
class Disagreement:
    """Outlets telling the fact of citation `citation` with different values (index.disagreement)."""

    citation: int
    versions: tuple[Version, ...]

    def line(self) -> str:
        """ "Outlets differ: 87 per cent (The Mellick Courier) · 91 per cent (North Sound Radio)" """
        told = [f"{v.value} ({v.source.outlet or v.source.title or v.source.article_id})" for v in self.versions]
        return "Outlets differ: " + " · ".join(told)


@dataclass(frozen=True)
class Citation:
    """One snippet as shown, numbered in display order, with every article that carries it."""

    n: int
    snippet: str
    score: float
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Answer:
    question: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    # The reader's best probability that a passage answers (None without a reader): what the
    # abstention threshold is compared with.
    confidence: float | None = None
    disagreements: tuple[Disagreement, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "abstained": self.abstained,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "citations": [
                {
                    "n": c.n,
                    "snippet": c.snippet,
                    "score": round(c.score, 4),
                    "sources": [s.__dict__.copy() for s in c.sources],
                }
                for c in self.citations
            ],
            "disagreements": [
                {
                    "citation": d.citation,
                    "values": [
                        {"value": v.value, "start": v.start, "end": v.end, "source": v.source.__dict__.copy()}
                        for v in d.versions
                    ],
                }
                for d in self.disagreements
            ],
        }

    def disagreements_of(self, citation: int) -> list[Disagreement]:
        return [d for d in self.disagreements if d.citation == citation]

    def sources(self) -> list[tuple[Source, list[int]]]:
        """Each cited article once, in order of first citation, with the citation numbers."""
        seen: dict[str, tuple[Source, list[int]]] = {}
        for citation in self.citations:
            for source in citation.sources:
                seen.setdefault(source.article_id, (source, []))[1].append(citation.n)
        return list(seen.values())


@dataclass(frozen=True)
class AnswerOptions:
    snippets: int = 3
    abstain_below: float = 0.35
    snippet_chars: int = 320
    candidates: int = 24
    diversity: float = 0.3
    keyword_weight: float = 0.3
    chunk_weight: float = 0.3
    rerank: int = 16
    focus_weight: float = 0.5
    focus_share: float = 0.15
    sentence_keyword_weight: float = 0.3
    answer_type_weight: float = 0.1
    follow_lists: bool = True
    corroborate: bool = True
    require_answer_type: bool = True  # a "when" / "how many" question whose snippets hold no date / number abstains
    read: int = 16  # candidates the reader reads

    def __post_init__(self) -> None:
        if self.snippets < 1 or self.candidates < self.snippets:
            raise ValueError("need at least one snippet and at least as many candidates as snippets")


def validate_question(question: str) -> str:
    """The question with spaces folded, or QuestionError saying what is wrong with it. Characters
    no tokenizer takes (lone surrogates, e.g. from a Discord client; control characters) are
    replaced, so such a question is still answered."""
    text = question.encode("utf-8", errors="replace").decode("utf-8")
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    text = " ".join(text.split())
    if not text:
        raise QuestionError("the question is empty; ask something about the story")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(text)} characters long; keep it under {MAX_QUESTION_CHARS}")
    return text


def _content_words(text: str) -> set[str]:
    return set(terms(text))


def _near_duplicate(a: set[str], b: set[str]) -> bool:
    """Two passages that say the same thing in (nearly) the same words."""
    if not a or not b:
        return False
    shared = len(a & b)
    return shared / len(a | b) >= 0.6 or shared / min(len(a), len(b)) >= 0.8


def _distinct(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """The first candidate of each snippet window: neighbouring sentences often share one."""
    seen: set[tuple[str, int, int]] = set()
    out = []
    for c in candidates:
        key = (c.article.id, *c.span)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _inside(inner: Span, outer: Span) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


@dataclass(frozen=True)
class Passage:
    """A candidate as the reader sees it: one sentence and the snippet window shown around it."""

    article_id: str
    text: str  # the snippet window
    sentence: str
    retrieval_score: float


@dataclass(eq=False)  # compared by identity: candidates hold vectors
class _Candidate:
    score: float
    relevance: float
    article: Article
    span: Span
    words: set[str]
    vector: np.ndarray
    unit: Span
    sources: list[Source] = field(default_factory=list)
    row: int = -1  # the unit's row in the index
    differing: list[tuple[Version, Version]] = field(default_factory=list)  # this snippet's value, another's


class Answerer:
    """Answers questions from one loaded index. Immutable: a rebuild makes a new Answerer.

    `ask` runs four stages:

    1. retrieve: chunks found by meaning (FAISS) and by keywords (BM25), the question expanded
       with the aliases the articles give; the sentences of the best chunks scored against the
       question, each as a snippet grown with its neighbours. Nothing close enough: abstain.
    2. read: the reader (if any) gives each of the best snippets the probability that it answers;
       none likely enough: abstain ("not in the articles").
    3. choose: snippets in retrieval's order by maximal marginal relevance, so that each point is
       made once; the same passage in several outlets is one snippet.
    4. cite: every outlet that carries a snippet or tells its fact in its own words.
    """

    def __init__(
        self,
        index: StoredIndex,
        embedder: Embedder,
        options: AnswerOptions | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.options = options or AnswerOptions()
        self.reader = reader

    def ask(self, question: str) -> Answer:
        """retrieve -> read -> choose -> cite (see the class docstring)."""
        text = validate_question(question)
        if self.index.store.size == 0:
            return Answer(text, abstained=True)
        # Retrieve: candidate passages by closeness to the question; none close enough is an abstention.
        found = self.retrieve(text)
        close = [c for c in found if c.score >= self.options.abstain_below]
        if not close:
            return Answer(text, abstained=True)
        found = self._with_list_items(found if self.reader is not None else close)
        # Read: the reader's probability that each of the best passages answers.
        confidence = None
        if self.reader is not None:
            found = self._read(text, found)
            confidence = max((c.score for c in found), default=0.0)
            if confidence < self.reader.abstain_below:
                log.debug("abstained: the reader's best probability is %.3f", confidence)
                return Answer(text, abstained=True, confidence=confidence)
        # Choose: the snippets that make distinct points, then cite every outlet that tells them.
        chosen = self._select(found)
        kind = expected_type(text)
        if self.options.require_answer_type and kind in (DATE, NUMBER):
            shown = [c.article.text[c.span[0] : c.span[1]] for c in chosen]
            if not any(holds(snippet, kind, text) for snippet in shown):
                log.debug("abstained: no snippet holds a %s", kind)
                return Answer(text, abstained=True, confidence=confidence)
        if self.options.corroborate:
            self._corroborate(chosen)
            self._compare_citations(chosen)
        citations = tuple(
            Citation(n, c.article.text[c.span[0] : c.span[1]], c.score, tuple(c.sources))
            for n, c in enumerate(chosen, start=1)
        )
        disagreements = tuple(
            Disagreement(n, (mine, theirs)) for n, c in enumerate(chosen, start=1) for mine, theirs in c.differing
        )
        return Answer(
            text, abstained=not citations, citations=citations, confidence=confidence, disagreements=disagreements
        )

    def retrieve(self, text: str) -> list[_Candidate]:
        """Candidate sentences, each with its snippet window, best first by closeness to the question."""
        variants = expand(text, self.index.aliases)
        focus = self._focus(text)
        encoded = self.embedder.encode([*variants, focus] if focus else variants)  # one call to the model
        queries = encoded[: len(variants)]
        focus_vector = encoded[len(variants)] if focus else None
        k = min(self.options.candidates, self.index.store.size)
        scores, rows = self.index.store.search(queries, k)
        dense: dict[int, float] = {}
        for found, similarity in zip(rows.ravel().tolist(), scores.ravel().tolist(), strict=True):
            if found >= 0 and similarity > dense.get(found, -1.0):
                dense[found] = similarity
        keyword_rows, keyword_scores = self.index.lexical.top(" ".join(variants), k)
        top_keyword = float(keyword_scores[0]) if len(keyword_scores) else 1.0
        keyword = {int(r): float(s) / top_keyword for r, s in zip(keyword_rows, keyword_scores, strict=True)}
        chunk_scores: dict[int, float] = {}
        for row in dense.keys() | keyword.keys():
            score = dense.get(row)
            if score is None:
                score = float((queries @ self.index.store.vectors(row, 1)[0]).max())
            chunk_scores[row] = score + self.options.keyword_weight * keyword.get(row, 0.0)
        ranked = sorted(chunk_scores, key=lambda r: -chunk_scores[r])[: self.options.rerank]
        question_terms = [terms(v) for v in variants]
        kind = expected_type(text)
        return self._sentence_candidates(ranked, chunk_scores, queries, focus_vector, question_terms, kind, text)

    def passages(self, question: str) -> list[Passage]:
        """What retrieval hands the reader for `question`, best first (the reader reads the first
        `options.read`); for training and inspecting the reader."""
        found = _distinct(self._with_list_items(self.retrieve(validate_question(question))))
        return [self._passage(c) for c in found]

    def every_passage(self) -> list[Passage]:
        """Every sentence of every article as a passage, in article order."""
        return [
            self._passage(self._candidate(unit, 0.0, 0.0, np.zeros(0, np.float32), self._unit_window(unit)))
            for unit in range(len(self.index.units))
        ]

    @staticmethod
    def _passage(c: _Candidate) -> Passage:
        text = c.article.text
        return Passage(c.article.id, text[c.span[0] : c.span[1]], text[c.unit[0] : c.unit[1]], c.relevance)

    def _read(self, text: str, found: Sequence[_Candidate]) -> list[_Candidate]:
        """The best `options.read` distinct snippet windows, each scored with the reader's
        probability that it answers, kept in retrieval's order.

        Retrieval keeps the order because it ranks better than the reader on articles unlike the
        training stories (measured: training/README.md); the reader decides whether any passage
        answers."""
        assert self.reader is not None
        candidates = _distinct(found)[: self.options.read]
        passages = [c.article.text[c.span[0] : c.span[1]] for c in candidates]
        for c, probability in zip(candidates, self.reader.read(text, passages).tolist(), strict=True):
            c.score = float(probability)
        return candidates

    def _corroborate(self, chosen: Sequence[_Candidate]) -> None:
        """Add the other outlets that report a snippet's fact in their own words: a sentence of
        theirs close in meaning (cosine ≥ CORROBORATE_COSINE) to a sentence of the snippet and
        sharing at least CORROBORATE_TERMS of its less common words (names, numbers, rare terms),
        or nearly identical (cosine ≥ QUOTE_COSINE: the same quote). When the two tell the fact
        with different values (index.disagreement), the other outlet does not corroborate it: the
        pair is a disagreement, shown with both versions."""
        lexical = self.index.lexical
        # Less common: in few chunks. A fact two outlets share is in at least two articles' chunks
        # (up to four with overlap), so in a small corpus a handful of chunks still counts as few.
        most = max(4.0, RARE_SHARE * lexical.size)

        def rare_terms(text: str) -> set[str]:
            return {t for t in terms(text) if lexical.share(t) * lexical.size <= most}

        inside = [self._snippet_units(c) for c in chosen]  # per snippet: the unit rows it holds
        all_units = [u for rows in inside for u in rows]
        if not all_units:
            return
        vectors = np.asarray(self.index.unit_vectors[all_units], dtype=np.float32)
        _, found = self.index.store.search(vectors, CORROBORATE_CHUNKS)  # one search for every snippet
        offset = 0
        for c, rows in zip(chosen, inside, strict=True):
            mine, hits = vectors[offset : offset + len(rows)], found[offset : offset + len(rows)]
            offset += len(rows)
            cited = {source.article_id for source in c.sources}
            candidates = sorted(
                {
                    unit
                    for chunk in {int(r) for r in hits.ravel() if r >= 0}
                    if self.index.entries[int(self.index.chunks[chunk]["article"])].article.id not in cited
                    for unit in self.index.chunk_units(chunk)
                }
            )
            if not candidates:
                continue
            similarity = np.asarray(self.index.unit_vectors[candidates], dtype=np.float32) @ mine.T
            closest, cosines = similarity.argmax(axis=1), similarity.max(axis=1)
            best: dict[int, tuple[float, int, int]] = {}  # article number -> (cosine, their unit, our unit)
            for unit, i, cosine in zip(candidates, closest.tolist(), cosines.tolist(), strict=True):
                other = int(self.index.units[unit]["article"])
                if cosine < CORROBORATE_COSINE or cosine <= best.get(other, (0.0, -1, -1))[0]:
                    continue
                if cosine < QUOTE_COSINE:
                    shared = rare_terms(self._unit_text(rows[i])) & rare_terms(self._unit_text(unit))
                    if len(shared) < CORROBORATE_TERMS:
                        continue
                best[other] = (cosine, unit, rows[i])
            for other, (_, unit, ours) in sorted(best.items(), key=lambda item: -item[1][0]):
                article = self.index.entries[other].article
                start, end = int(self.index.units[unit]["start"]), int(self.index.units[unit]["end"])
                source = Source(article.id, article.title, article.outlet, article.date, article.url, start, end)
                source = dataclasses.replace(source, same_passage=False)
                differing = self._differing(c, ours, source, unit)
                if differing:
                    c.differing.extend(differing)
                else:
                    c.sources.append(source)

    def _compare_citations(self, chosen: Sequence[_Candidate]) -> None:
        """Cited snippets of two outlets that answer with different values: the sentences share
        DISAGREE_TERMS words besides the values, and give one value each of the same kind."""
        for i, first in enumerate(chosen):
            for second in chosen[i + 1 :]:
                if second.article.id in {s.article_id for s in first.sources}:
                    continue
                for ours in self._snippet_units(first):
                    for unit in self._snippet_units(second):
                        if self._named_differently(ours, unit):
                            continue
                        theirs = second.sources[0]
                        start, end = int(self.index.units[unit]["start"]), int(self.index.units[unit]["end"])
                        sentence = dataclasses.replace(theirs, start=start, end=end)
                        found = self._differing(first, ours, sentence, unit, DISAGREE_TERMS, amounts_only=True)
                        first.differing.extend(found)

    def _named_differently(self, first: int, second: int) -> bool:
        """Whether two sentences begin with different names (what each is about): a leading
        capitalised word its article also writes capitalised in mid-sentence ("the Tern")."""
        names = [self._leading_name(unit) for unit in (first, second)]
        return None not in names and names[0] != names[1]

    def _leading_name(self, unit: int) -> str | None:
        match = _LEADING_WORD.match(self._unit_text(unit))
        if match is None:
            return None
        word = match["word"]
        mid_sentence = re.search(rf"[a-z,;:] (?:the )?{re.escape(word)}\b", self._article(unit).text)
        return word if mid_sentence else None

    def _snippet_units(self, c: _Candidate) -> list[int]:
        """The unit rows a snippet holds whole."""
        number = int(self.index.units[c.row]["article"])
        first = self.index.entries[number].first_unit
        spans = self.index.article_units(number)
        return [first + i for i, (s, e) in enumerate(spans) if c.span[0] <= s and e <= c.span[1]]

    def _differing(
        self, c: _Candidate, ours: int, theirs: Source, unit: int, shared_terms: int = 0, *, amounts_only: bool = False
    ) -> list[tuple[Version, Version]]:
        """Each value our sentence and theirs give differently, as (our version, their version);
        with `shared_terms`, only when the sentences share that many words besides the values."""
        mine_text, their_text = self._unit_text(ours), self._unit_text(unit)
        our_start, their_start = int(self.index.units[ours]["start"]), theirs.start
        our_source = c.sources[0]
        pairs = []
        for difference in differences(mine_text, their_text):
            (a, b), (x, y) = difference.first, difference.second
            if amounts_only and difference.key in DATED:
                continue
            if shared_terms:
                values = set(terms(mine_text[a:b])) | set(terms(their_text[x:y]))
                if len((set(terms(mine_text)) & set(terms(their_text))) - values) < shared_terms:
                    continue
            pairs.append(
                (
                    Version(mine_text[a:b], our_source, our_start + a, our_start + b),
                    Version(their_text[x:y], theirs, their_start + x, their_start + y),
                )
            )
        return pairs

    def _unit_text(self, unit: int) -> str:
        record = self.index.units[unit]
        return self._article(unit).text[int(record["start"]) : int(record["end"])]

    def _focus(self, question: str) -> str | None:
        """The question without the words much of the corpus shares (the story's recurring names),
        so that sentences are matched on what is asked rather than on who it is about."""
        if self.options.focus_weight <= 0:
            return None
        kept, dropped = [], False
        for token in re.findall(r"\S+", question):
            words = terms(token)
            if words and all(self.index.lexical.share(w) > self.options.focus_share for w in words):
                dropped = True
                continue
            kept.append(token)
        if not dropped or not terms(" ".join(kept)):
            return None
        return " ".join(kept)

    def _sentence_candidates(
        self,
        rows: Sequence[int],
        chunk_scores: dict[int, float],
        queries: np.ndarray,
        focus: np.ndarray | None,
        question_terms: Sequence[Sequence[str]],
        kind: str | None,
        question: str,
    ) -> list[_Candidate]:
        """Each sentence of the best chunks, scored against the question, as a snippet around it.
        Sentence vectors come from the index (embedded at build time), not from the model."""
        best_chunk: dict[int, int] = {}  # unit row -> the best-scoring chunk that holds it
        for row in rows:
            for unit in self.index.chunk_units(row):
                if unit not in best_chunk or chunk_scores[row] > chunk_scores[best_chunk[unit]]:
                    best_chunk[unit] = row
        if not best_chunk:
            return []
        unit_rows = sorted(best_chunk)
        vectors = np.asarray(self.index.unit_vectors[unit_rows], dtype=np.float32)
        scores = (vectors @ queries.T).max(axis=1)
        matched = scores
        if focus is not None:
            f = self.options.focus_weight
            matched = (1 - f) * scores + f * (vectors @ focus)
        candidates = []
        for unit, vector, score, match in zip(unit_rows, vectors, scores, matched, strict=True):
            article = self._article(unit)
            span = self._unit_window(unit)
            unit_terms = terms(self._unit_text(unit))
            keywords = max(self.index.lexical.overlap(q, unit_terms) for q in question_terms)
            relevance = (
                float(match)
                + self.options.sentence_keyword_weight * keywords
                + self.options.chunk_weight * chunk_scores[best_chunk[unit]]
                + (
                    self.options.answer_type_weight
                    if kind and holds(article.text[span[0] : span[1]], kind, question)
                    else 0.0
                )
            )
            candidates.append(self._candidate(unit, float(score), relevance, vector, span))
        candidates.sort(key=lambda c: -c.relevance)
        return candidates

    def _article(self, unit: int) -> Article:
        return self.index.entries[int(self.index.units[unit]["article"])].article

    def _unit_window(self, unit: int) -> Span:
        number = int(self.index.units[unit]["article"])
        entry = self.index.entries[number]
        return self._window(entry.article.text, self.index.article_units(number), unit - entry.first_unit)

    def _candidate(self, unit: int, score: float, relevance: float, vector: np.ndarray, span: Span) -> _Candidate:
        article = self._article(unit)
        record = self.index.units[unit]
        source = Source(article.id, article.title, article.outlet, article.date, article.url, *span)
        words = _content_words(article.text[span[0] : span[1]])
        unit_span = (int(record["start"]), int(record["end"]))
        return _Candidate(score, relevance, article, span, words, vector, unit_span, [source], row=unit)

    def _with_list_items(self, candidates: list[_Candidate]) -> list[_Candidate]:
        if not self.options.follow_lists:
            return candidates
        return sorted(candidates + self._list_items(candidates), key=lambda c: -c.relevance)

    def _list_items(self, candidates: list[_Candidate]) -> list[_Candidate]:
        """The points a passage announces ("gave three reasons:", "Under the agreement:"), each as
        relevant as the announcement: the points answer the question, the announcement only restates it.

        Boosts the candidates that already are such points and returns the ones still missing.
        """
        by_unit = {c.row: c for c in candidates}
        boosts: dict[int, float] = {}
        for c in sorted(candidates, key=lambda c: -c.relevance)[: self.options.snippets]:
            text = c.article.text
            if not announces(text[c.unit[0] : c.unit[1]]):
                continue
            number = int(self.index.units[c.row]["article"])
            first = self.index.entries[number].first_unit
            units = self.index.article_units(number)
            for k, i in enumerate(list_items(text, units, c.row - first), start=1):
                relevance = c.relevance - 0.001 * k
                boosts[first + i] = max(boosts.get(first + i, relevance), relevance)
        added = []
        score = max((c.score for c in candidates), default=0.0)
        for unit, relevance in boosts.items():
            found = by_unit.get(unit)
            if found is not None:
                found.relevance = max(found.relevance, relevance)
                continue
            vector = np.asarray(self.index.unit_vectors[unit], dtype=np.float32)
            added.append(self._candidate(unit, score, relevance, vector, self._unit_window(unit)))
        return added

    def _window(self, text: str, units: Sequence[Span], centre: int) -> Span:
        """The sentence, grown with the sentences after it and those before it in its own paragraph
        (a snippet opens where a paragraph or the sentence does, not mid-way through another) while it fits."""
        limit = self.options.snippet_chars
        start, end = units[centre]
        if end - start > limit:  # one sentence longer than the limit: cut at a word
            cut = text.rfind(" ", start, start + limit)
            return (start, cut if cut > start else start + limit)
        first = last = centre
        grew = True
        while grew:
            grew = False
            if last + 1 < len(units) and units[last + 1][1] - start <= limit:
                last, end, grew = last + 1, units[last + 1][1], True
            if (
                first > 0
                and end - units[first - 1][0] <= limit
                and "\n" not in text[units[first - 1][1] : units[first][0]]
            ):
                first, start, grew = first - 1, units[first - 1][0], True
        return start, end

    def _select(self, candidates: Sequence[_Candidate]) -> list[_Candidate]:
        """Maximal marginal relevance, merging near-identical passages into one citation."""
        chosen: list[_Candidate] = []
        pool = list(candidates)
        weight = self.options.diversity
        while pool and len(chosen) < self.options.snippets:

            def value(c: _Candidate) -> float:
                if not chosen:
                    return c.relevance
                redundancy = max(float(c.vector @ s.vector) for s in chosen)
                return (1 - weight) * c.relevance - weight * redundancy

            best = max(pool, key=value)
            pool.remove(best)
            duplicate = next((c for c in chosen if self._same_passage(best, c)), None)
            if duplicate is None:
                chosen.append(best)
            elif best.article.id not in {s.article_id for s in duplicate.sources}:
                duplicate.sources.extend(best.sources)
        # Passages found later that repeat a chosen one still add their outlets.
        for candidate in pool:
            for c in chosen:
                if self._same_passage(candidate, c) and candidate.article.id not in {s.article_id for s in c.sources}:
                    c.sources.extend(candidate.sources)
        return chosen

    @staticmethod
    def _same_passage(a: _Candidate, b: _Candidate) -> bool:
        """`a` adds nothing to `b`: in one article, either snippet holds the sentence the other was
        chosen for; across articles, the two passages say the same in nearly the same words."""
        if a.article.id == b.article.id:
            return _inside(a.unit, b.span) or _inside(b.unit, a.span)
        return _near_duplicate(a.words, b.words)
