"""Check the reader's training stories: format, facts and evidence verbatim, no overlap with eval corpora.

    python -m training.check_data                  # every story under training/data
    python -m training.check_data training/data/17_x  # one story

A story is a folder ``training/data/<NN_slug>/`` holding ``articles/`` (2-3 article files with
front matter, read by StoryBot's own reader and cleaner) and ``questions.jsonl`` in the eval format
plus one field, ``evidence``: for an answerable question, the passages (verbatim, 5+ words, from the
cleaned body text) that state the answer; every expected fact must be inside one of them.

Exit status 0 when every story passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from index.articles import load_corpus
from index.evaluation import fold

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "training" / "data"
# Text StoryBot is evaluated on: nothing of it may be trained on.
EVAL_CORPORA = [ROOT / "data" / "articles", ROOT / "eval" / "corpora", ROOT.parent / "shared" / "corpus"]
SHINGLE = 8  # words: two texts sharing this many words in a row share a passage


def shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", fold(text))
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def eval_shingles() -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for folder in EVAL_CORPORA:
        if folder.is_dir():
            for article in load_corpus(folder).articles:
                found |= shingles(article.text)
    return found


def check_story(folder: Path, forbidden: set[tuple[str, ...]]) -> list[str]:
    problems: list[str] = []
    corpus = load_corpus(folder / "articles")
    for skipped in corpus.skipped:
        problems.append(f"article skipped: {skipped.path}: {skipped.reason}")
    articles = corpus.articles
    if not 2 <= len(articles) <= 4:
        problems.append(f"{len(articles)} articles; a story has 2-3")
    outlets = {a.outlet for a in articles}
    if None in outlets or len(outlets) != len(articles):
        problems.append("every article needs its own outlet in its front matter")
    texts = [fold(a.text) for a in articles]
    paragraphs = [fold(p) for a in articles for p in a.text.split("\n") if p.strip()]
    for a in articles:
        if shingles(a.text) & forbidden:
            problems.append(f"{a.id} shares a passage of {SHINGLE}+ words with an eval corpus")
    path = folder / "questions.jsonl"
    if not path.is_file():
        return [*problems, "no questions.jsonl"]
    ids: Counter[str] = Counter()
    answerable = abstain = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"questions.jsonl:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not JSON ({exc})")
            continue
        ids[str(record.get("id"))] += 1
        question = record.get("question")
        if not isinstance(question, str) or not question.strip():
            problems.append(f"{where}: no question")
            continue
        if record.get("abstain") is True:
            abstain += 1
            if record.get("expect") or record.get("evidence"):
                problems.append(f"{where}: an abstain question has no expect or evidence")
            continue
        answerable += 1
        expect, evidence = record.get("expect"), record.get("evidence")
        if not (isinstance(expect, list) and expect and all(isinstance(f, list) and f for f in expect)):
            problems.append(f"{where}: expect must be a non-empty list of non-empty lists")
            continue
        if not (isinstance(evidence, list) and evidence and all(isinstance(e, str) for e in evidence)):
            problems.append(f"{where}: evidence must be a non-empty list of strings")
            continue
        folded_evidence = [fold(e) for e in evidence]
        for e, original in zip(folded_evidence, evidence, strict=True):
            if len(e.split()) < 5:
                problems.append(f"{where}: evidence {original!r} is under 5 words")
            if not any(e in p for p in paragraphs):
                problems.append(f"{where}: evidence {original!r} is not verbatim in one paragraph of a cleaned article")
        for fact in expect:
            alternatives = [fold(a) for a in fact]
            for alt, original in zip(alternatives, fact, strict=True):
                if not any(alt in t for t in texts):
                    problems.append(f"{where}: alternative {original!r} is in no cleaned article")
            if not any(alt in e for alt in alternatives for e in folded_evidence):
                problems.append(f"{where}: fact {fact!r} is in none of the evidence passages")
    for key, count in ids.items():
        if count > 1:
            problems.append(f"id {key!r} is used {count} times")
    total = answerable + abstain
    if total and abstain / total < 0.25:
        problems.append(f"{abstain} of {total} questions abstain; at least a quarter should")
    print(f"{folder.name}: {len(articles)} articles, {answerable} answerable, {abstain} abstain", file=sys.stderr)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stories", nargs="*", type=Path, help="story folders (default: all under training/data)")
    args = parser.parse_args(argv)
    folders = args.stories or sorted(p for p in DATA.iterdir() if p.is_dir())
    forbidden = eval_shingles()
    failed = 0
    for folder in folders:
        problems = check_story(folder, forbidden)
        for problem in problems:
            print(f"{folder.name}: {problem}")
        failed += bool(problems)
    print(f"{len(folders) - failed} of {len(folders)} stories pass", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
