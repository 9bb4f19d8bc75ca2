"""Check that every expected fact of an eval question set is written verbatim in the articles.

    python eval/check_facts.py --articles data/articles eval/story.jsonl
    python eval/check_facts.py --articles eval/corpora/harbour eval/harbour.jsonl --cleaned

For each answerable question, each fact (a list of alternative strings) must have at least one
alternative that occurs in the folded body text of at least one article: front matter stripped,
case folded, curly quotes made straight, runs of white space (no-break spaces included) made one
space -- the same folding the answer metrics use. An alternative found nowhere is reported as a
warning (an error with --strict); a fact with no alternative found is an error. The set's format is
checked too: ids unique, either "expect" or "abstain": true.

--cleaned first runs the project's own cleaner (index/cleaning.py, loaded by file path so no
third-party package is needed) over each article, so a fact that only a reader comment or other
page clutter carries is reported as missing.

Exit status: 0 when every fact is found, 1 when one is not (or the set is malformed), 2 on bad usage.
Standard library only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n.*?\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_ARTICLE_SUFFIXES = {".txt", ".md", ".json", ".jsonl"}


def fold(text: str) -> str:
    """Case, curly quotes and white space (no-break spaces included) folded, as the metrics match."""
    return " ".join(text.translate(_QUOTES).lower().split())


def strip_front_matter(raw: str) -> str:
    match = _FRONT_MATTER.match(raw)
    return raw[match.end() :] if match else raw


def _record_bodies(raw: str, suffix: str) -> list[str]:
    """The text fields of a .json / .jsonl article file."""
    if suffix == ".jsonl":
        records: list[Any] = [json.loads(line) for line in raw.splitlines() if line.strip()]
    else:
        loaded = json.loads(raw)
        records = loaded if isinstance(loaded, list) else [loaded]
    bodies = []
    for record in records:
        if isinstance(record, dict):
            for key in ("text", "body", "content"):
                if isinstance(record.get(key), str):
                    bodies.append(record[key])
                    break
    return bodies


def load_cleaner(root: Path) -> Callable[[str], str]:
    """The project's clean() from index/cleaning.py, imported by path (no package __init__)."""
    path = root / "index" / "cleaning.py"
    spec = importlib.util.spec_from_file_location("_storybot_cleaning", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the cleaner from {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    clean: Callable[[str], str] = module.clean
    return clean


def load_articles(folder: Path, cleaner: Callable[[str], str] | None = None) -> dict[str, str]:
    """Folded body text of every article file under folder (hidden files and folders skipped)."""
    articles: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or path.suffix.lower() not in _ARTICLE_SUFFIXES:
            continue
        if any(part.startswith(".") for part in relative.parts):
            continue
        raw = path.read_text(encoding="utf-8")
        if path.suffix.lower() in {".json", ".jsonl"}:
            bodies = _record_bodies(raw, path.suffix.lower())
        else:
            bodies = [strip_front_matter(raw)]
        for i, body in enumerate(bodies):
            name = str(relative) if len(bodies) == 1 else f"{relative}#{i}"
            articles[name] = fold(cleaner(body) if cleaner else body)
    return articles


def load_questions(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of a JSONL set and the format problems found in it."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc})")
            continue
        if not isinstance(record, dict) or not isinstance(record.get("question"), str):
            problems.append(f"line {number}: expected an object with a 'question' string")
            continue
        identifier = str(record.get("id", f"line {number}"))
        if identifier in seen:
            problems.append(f"{identifier}: duplicate id")
        seen.add(identifier)
        expect = record.get("expect")
        abstain = record.get("abstain") is True
        if abstain == bool(expect):
            problems.append(f"{identifier}: give either 'expect' or 'abstain': true, not both or neither")
            continue
        if expect is not None and not (
            isinstance(expect, list)
            and all(
                isinstance(fact, list) and fact and all(isinstance(a, str) and a.strip() for a in fact)
                for fact in expect
            )
        ):
            problems.append(f"{identifier}: 'expect' must be a list of non-empty lists of strings")
            continue
        records.append(record)
    return records, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("jsonl", type=Path, help="the question set (one JSON object a line)")
    parser.add_argument("--articles", type=Path, default=Path("data/articles"), help="folder of articles")
    parser.add_argument("--cleaned", action="store_true", help="match against the project's cleaned text")
    parser.add_argument("--strict", action="store_true", help="an alternative found nowhere is an error too")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every alternative and where it is")
    args = parser.parse_args(argv)

    if not args.articles.is_dir():
        parser.error(f"{args.articles} is not a folder")
    if not args.jsonl.is_file():
        parser.error(f"{args.jsonl} is not a file")
    cleaner = load_cleaner(Path(__file__).resolve().parent.parent) if args.cleaned else None
    articles = load_articles(args.articles, cleaner)
    if not articles:
        parser.error(f"no articles in {args.articles}")
    records, problems = load_questions(args.jsonl)

    answerable = abstain = facts = alternatives = absent_alternatives = 0
    missing_facts: list[str] = []
    for record in records:
        identifier = str(record.get("id"))
        if record.get("abstain") is True:
            abstain += 1
            continue
        answerable += 1
        for n, fact in enumerate(record["expect"], start=1):
            facts += 1
            found_any = False
            for alternative in fact:
                alternatives += 1
                where = [name for name, text in articles.items() if fold(alternative) in text]
                found_any = found_any or bool(where)
                if not where:
                    absent_alternatives += 1
                    level = "ERROR" if args.strict else "warning"
                    print(f"{level}: {identifier} fact {n}: {alternative!r} is in no article")
                elif args.verbose:
                    print(f"ok: {identifier} fact {n}: {alternative!r} in {', '.join(where)}")
            if not found_any:
                missing_facts.append(f"{identifier} fact {n}")
                print(f"ERROR: {identifier} fact {n}: no alternative is in any article: {fact}")

    for problem in problems:
        print(f"ERROR: {problem}")
    print(
        f"{args.jsonl}: {answerable + abstain} questions ({answerable} answerable, {abstain} abstain); "
        f"{facts} facts, {facts - len(missing_facts)} found; {alternatives} alternatives, "
        f"{alternatives - absent_alternatives} found; {len(articles)} articles in {args.articles}"
        f"{' (cleaned)' if cleaner else ''}"
    )
    failed = bool(missing_facts or problems or (args.strict and absent_alternatives))
    print("FAIL" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
