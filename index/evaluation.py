"""Answer quality, measured the way ../shared/eval/README.md defines it, over any JSONL question set.

A question set is one JSON object a line: ``{"id", "question", "expect": [[alternatives...], ...]}`` for a
question the articles answer (one inner list per fact, any alternative counts), or ``{"id", "question",
"abstain": true}`` for one they do not. Only the snippets a user is shown count, in the order shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.answering import Answer, Answerer
from index.errors import EvalFileError

# The bar the project holds itself to (issue 4); `EvalReport.shortfalls` compares against it.
TARGETS = {
    "hit_at_1": 0.90,
    "coverage_at_3": 0.95,
    "false_abstain_rate": 0.05,
    "abstain_accuracy": 0.90,
    "mean_snippet_chars": 320.0,
}
LOWER_IS_BETTER = frozenset({"false_abstain_rate", "mean_snippet_chars"})


def meets(metric: str, value: float, bar: float) -> bool:
    """Whether `value` of `metric` is on the right side of `bar` (at most for LOWER_IS_BETTER)."""
    return value <= bar if metric in LOWER_IS_BETTER else value >= bar


_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def fold(text: str) -> str:
    """Case, white space (no-break spaces included) and curly quotes folded, as the metrics match."""
    return " ".join(text.translate(_QUOTES).lower().split())


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    expect: tuple[tuple[str, ...], ...] = ()
    abstain: bool = False


def load_questions(path: Path) -> list[EvalQuestion]:
    """The questions of a JSONL set, or EvalFileError naming the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"cannot read {path}: {exc}") from exc
    questions: list[EvalQuestion] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            questions.append(_parse(json.loads(line), number))
        except (ValueError, TypeError) as exc:
            raise EvalFileError(f"{path}:{number}: {exc}") from exc
    if not questions:
        raise EvalFileError(f"{path} has no questions")
    return questions


def _parse(record: Any, number: int) -> EvalQuestion:
    if not isinstance(record, dict) or not isinstance(record.get("question"), str):
        raise ValueError('expected an object with a "question" string')
    abstain = record.get("abstain") is True
    expect = record.get("expect", [])
    if not isinstance(expect, list) or not all(
        isinstance(fact, list) and fact and all(isinstance(alt, str) and alt.strip() for alt in fact) for fact in expect
    ):
        raise ValueError('"expect" must be a list of facts, each a non-empty list of strings')
    if abstain == bool(expect):
        raise ValueError('give either "expect" (answerable) or "abstain": true, not both or neither')
    facts = tuple(tuple(alt for alt in fact) for fact in expect)
    return EvalQuestion(str(record.get("id", f"line {number}")), record["question"], facts, abstain)


@dataclass(frozen=True)
class QuestionResult:
    item: EvalQuestion
    answer: Answer
    found: tuple[bool, ...]  # per expected fact: in the first three snippets
    hit: bool  # the first fact in the first snippet

    @property
    def coverage(self) -> float:
        return sum(self.found) / len(self.found) if self.found else 0.0

    @property
    def correct(self) -> bool:
        if self.item.abstain:
            return self.answer.abstained
        return self.hit and all(self.found)


def judge(item: EvalQuestion, answer: Answer) -> QuestionResult:
    shown = [fold(c.snippet) for c in answer.citations]
    found = tuple(any(fold(alt) in s for alt in fact for s in shown[:3]) for fact in item.expect)
    hit = bool(shown) and bool(item.expect) and any(fold(alt) in shown[0] for alt in item.expect[0])
    return QuestionResult(item, answer, found, hit)


@dataclass(frozen=True)
class EvalReport:
    results: tuple[QuestionResult, ...]

    @property
    def answerable(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.item.abstain]

    @property
    def off_topic(self) -> list[QuestionResult]:
        return [r for r in self.results if r.item.abstain]

    def metrics(self) -> dict[str, float]:
        answerable, off_topic = self.answerable, self.off_topic
        lengths = [len(c.snippet) for r in self.results for c in r.answer.citations]
        return {
            "questions": float(len(self.results)),
            "answerable": float(len(answerable)),
            "off_topic": float(len(off_topic)),
            "hit_at_1": _mean([float(r.hit) for r in answerable]),
            "coverage_at_3": _mean([r.coverage for r in answerable]),
            "false_abstentions": float(sum(r.answer.abstained for r in answerable)),
            "false_abstain_rate": _mean([float(r.answer.abstained) for r in answerable]),
            "abstain_accuracy": _mean([float(r.answer.abstained) for r in off_topic]),
            "mean_snippet_chars": _mean([float(n) for n in lengths]),
        }

    def misses(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.correct]

    def shortfalls(self, targets: dict[str, float] = TARGETS) -> list[str]:
        """One line per metric that misses its target; empty when all are met."""
        metrics = self.metrics()
        lines = []
        for name, target in targets.items():
            value = metrics[name]
            if not meets(name, value, target):
                relation = "at most" if name in LOWER_IS_BETTER else "at least"
                lines.append(f"{name} is {value:.2f}; the target is {relation} {target:.2f}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics(),
            "targets": TARGETS,
            "shortfalls": self.shortfalls(),
            "misses": [
                {
                    "id": r.item.id,
                    "question": r.item.question,
                    "expected": "abstain" if r.item.abstain else [list(f) for f in r.item.expect],
                    "found": list(r.found),
                    "hit": r.hit,
                    "answer": r.answer.to_dict(),
                }
                for r in self.misses()
            ],
        }


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def evaluate(
    answerer: Answerer, questions: Iterable[EvalQuestion], progress: Callable[[int], None] | None = None
) -> EvalReport:
    """Ask every question with `answerer` (the one the bot uses) and judge the snippets shown."""
    results = []
    for done, item in enumerate(questions, start=1):
        results.append(judge(item, answerer.ask(item.question)))
        if progress is not None:
            progress(done)
    return EvalReport(tuple(results))
