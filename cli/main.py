"""`storybot`: the terminal front end and a composition root (Settings -> Engine)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from config import Settings, SettingsError, load_settings
from config.wiring import configure_logging, make_engine

if TYPE_CHECKING:
    from index import Answer, BuildProgress, EvalReport, StoredIndex

log = logging.getLogger(__name__)

EXIT_ERROR = 1
EXIT_USAGE = 2


# --- rendering --------------------------------------------------------------------------------


def render_answer(answer: Answer) -> str:
    """An answer as a person reads it: numbered snippets with their citations, then the sources."""
    if answer.abstained:
        return f"{answer.question}\n\nThat is not in the articles. (`storybot index stats` lists what the index holds.)"
    lines = [answer.question, ""]
    for citation in answer.citations:
        lines.append(f"[{citation.n}] “{' '.join(citation.snippet.split())}”")
        for source in citation.sources:
            own_words = "" if source.same_passage else " (reports it in its own words)"
            lines.append(f"    — {source.label()}{own_words}")
        lines.extend(f"    {disagreement.line()}" for disagreement in answer.disagreements_of(citation.n))
        lines.append("")
    lines.append("Sources")
    for source, numbers in answer.sources():
        cited = " ".join(f"[{n}]" for n in numbers)
        link = f" <{source.url}>" if source.url else ""
        lines.append(f"  {cited} {source.label()}{link}")
    return "\n".join(lines)


def render_stats(index: StoredIndex) -> str:
    spec = index.spec
    lines = [
        f"index:    {index.folder} (built {index.built_at:%Y-%m-%d %H:%M} UTC)",
        f"model:    {spec.model} ({spec.dimension} dimensions)",
        f"chunks:   {len(index.chunks)} (size {spec.chunking.size}, overlap {spec.chunking.overlap} characters)",
        f"articles: {len(index.entries)}",
    ]
    for entry in index.entries:
        article = entry.article
        lines.append(
            f"  {entry.chunk_count:>5} chunks  {article.date or 'no date':<10}  {article.outlet or 'no outlet':<14}  "
            f"{article.title or '(untitled)'}  [{article.id}]"
        )
    return "\n".join(lines)


_METRIC_LABELS = {
    "hit_at_1": "hit@1",
    "coverage_at_3": "coverage@3",
    "false_abstain_rate": "false abstentions",
    "abstain_accuracy": "abstain accuracy",
    "mean_snippet_chars": "mean snippet (characters)",
}


def render_eval(report: EvalReport, source: str) -> str:
    """The metrics against their targets, then each miss with its expected facts and the snippets shown."""
    from index.evaluation import LOWER_IS_BETTER, TARGETS, meets

    metrics = report.metrics()
    lines = [
        f"{source}: {int(metrics['questions'])} questions, {int(metrics['answerable'])} answerable, "
        f"{int(metrics['off_topic'])} not in the articles",
        "",
        f"  {'metric':<27} {'value':>7}  target",
    ]
    for name, label in _METRIC_LABELS.items():
        value, target = metrics[name], TARGETS[name]
        at_most = name in LOWER_IS_BETTER
        ok = meets(name, value, target)
        digits = 0 if name == "mean_snippet_chars" else 2
        extra = f"  ({int(metrics['false_abstentions'])})" if name == "false_abstain_rate" else ""
        lines.append(
            f"  {label:<27} {value:>7.{digits}f}  {'≤' if at_most else '≥'} {target:.{digits}f}"
            f"  {'ok' if ok else 'MISSED'}{extra}"
        )
    misses = report.misses()
    if misses:
        lines += ["", f"{len(misses)} questions not fully answered:"]
    for result in misses:
        item, answer = result.item, result.answer
        lines += ["", f"{item.id}: {item.question}"]
        if item.abstain:
            lines.append("  expected: not in the articles; answered with:")
        else:
            lines.append("  abstained" if answer.abstained else f"  hit@1 {'yes' if result.hit else 'no'}; facts:")
            for fact, found in zip(item.expect, result.found, strict=True):
                lines.append(f"    {'found  ' if found else 'MISSING'} {' | '.join(fact)}")
        for citation in answer.citations:
            lines.append(f"    [{citation.n}] {citation.score:.2f} {' '.join(citation.snippet.split())}")
    return "\n".join(lines)


class _TerminalProgress:
    """Build progress on stderr: stage lines, and a bar while embedding when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bar: object | None = None

    def __call__(self, event: BuildProgress) -> None:
        if event.stage == "articles":
            print(f"articles: {event.total} read", file=self._stream)
        elif event.stage == "chunks":
            print(f"chunks:   {event.total}", file=self._stream)
        elif event.stage == "embedding":
            self._embedding(event)
        elif event.stage == "saving" and event.done == 0:
            self._close()
            print("saving…", file=self._stream)

    def _embedding(self, event: BuildProgress) -> None:
        from tqdm import tqdm

        if event.total == 0:
            return
        if self._bar is None:
            self._bar = tqdm(
                total=event.total,
                desc="embedding",
                unit="sentence",
                file=self._stream,
                disable=not self._stream.isatty(),
            )
        bar = self._bar
        assert isinstance(bar, tqdm)
        bar.update(event.done - bar.n)
        if not self._stream.isatty() and event.done == event.total:
            print(f"embedded: {event.total} sentences", file=self._stream)

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()  # type: ignore[attr-defined]
            self._bar = None


# --- commands ------------------------------------------------------------------------------------


def cmd_index_build(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings, reader=False)
    progress = _TerminalProgress(sys.stderr)
    report = engine.build(full=args.full, progress=progress)
    progress._close()
    for item in report.skipped:
        print(f"skipped {item.path}: {item.reason}", file=sys.stderr)
    if report.reason:
        print(f"rebuilt from scratch: {report.reason}", file=sys.stderr)
    print(report.summary())
    return 0


def cmd_index_stats(settings: Settings, args: argparse.Namespace) -> int:
    from index import load_index

    # Stats read the manifest's own model and chunking; loading the model is not needed.
    print(render_stats(load_index(settings.index_dir)))
    return 0


def cmd_index_verify(settings: Settings, args: argparse.Namespace) -> int:
    import time

    from index.storage import verify_index

    started = time.perf_counter()
    files, size = verify_index(settings.index_dir)
    print(
        f"index {settings.index_dir}: {files} files, {size / 1e6:,.1f} MB, every checksum matches and it loads "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


def _echo(question: str, limit: int = 200) -> str:
    """A refused question as echoed back: a 2 MB line is not printed whole."""
    return question if len(question) <= limit else question[:limit] + f"… ({len(question):,} characters)"


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from index import QuestionError, use_threads, validate_question

    from_stdin = args.question == ["-"]
    if not from_stdin:
        validate_question(" ".join(args.question))  # a bad question fails before the model loads
    engine = make_engine(settings)
    answerer, report = engine.answerer_building_if_missing(progress=_TerminalProgress(sys.stderr))
    if report is not None:
        print(f"no index yet; built one: {report.summary()}", file=sys.stderr)
    use_threads(1)  # see index.embedding.use_threads
    questions: Iterator[str] = iter([" ".join(args.question)])
    if from_stdin:
        # Bytes that are not UTF-8 (or not text at all) become U+FFFD: that line is still asked, the rest go on.
        lines = (raw.decode("utf-8", errors="replace") for raw in sys.stdin.buffer)
        questions = (line for line in lines if line.strip())
    status = 0
    for question in questions:
        try:
            answer = answerer.ask(question)
        except QuestionError as exc:
            if not from_stdin:
                raise
            status = EXIT_ERROR
            error = {"question": _echo(question.rstrip("\n")), "error": str(exc)}
            print(json.dumps(error, ensure_ascii=False) if args.json else f"storybot: {exc}", flush=True)
            continue
        print(json.dumps(answer.to_dict(), ensure_ascii=False) if args.json else render_answer(answer), flush=True)
        if from_stdin and not args.json:
            print(flush=True)
    return status


def _is_url(text: str) -> bool:
    return "://" in text[:16]


def cmd_add(settings: Settings, args: argparse.Namespace) -> int:
    """Each URL fetched and each file read, saved as Markdown into the articles folder; then one
    incremental build for all of them. A source that fails is one line; the others still go in."""
    from index import StoryError
    from index.fetch import fetch_page_sync
    from index.intake import Added, add_page, add_upload

    status, added = 0, list[Added]()
    for source in args.sources:
        try:
            if _is_url(source):
                page = fetch_page_sync(source, allow_private=settings.fetch_allow_private)
                new = [add_page(settings.articles_dir, page.text, page.url, by="the terminal")]
            else:
                path = Path(source)
                new = add_upload(settings.articles_dir, path.name, path.read_bytes(), by="the terminal")
        except (StoryError, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"storybot: {source}: {reason}", file=sys.stderr)
            status = EXIT_ERROR
            continue
        for item in new:
            print(f"added {item.path.name}\n" + "\n".join(f"  {line}" for line in item.describe()))
        added += new
    if added:
        report = make_engine(settings, reader=False).build(progress=_TerminalProgress(sys.stderr))
        print(report.summary())
    return status if added or status else EXIT_ERROR


def cmd_remove(settings: Settings, args: argparse.Namespace) -> int:
    from index.intake import remove_article

    article, moved = remove_article(settings.articles_dir, args.article_id, by="the terminal")
    print(f"removed {article.title or article.id}: moved to {moved}")
    report = make_engine(settings, reader=False).build(progress=_TerminalProgress(sys.stderr))
    print(report.summary())
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from index import evaluate, load_questions, use_threads

    questions = load_questions(args.file)  # a bad file fails before the model loads
    engine = make_engine(settings)
    answerer, report = engine.answerer_building_if_missing(progress=_TerminalProgress(sys.stderr))
    if report is not None:
        print(f"no index yet; built one: {report.summary()}", file=sys.stderr)
    use_threads(1)  # see index.embedding.use_threads
    result = evaluate(answerer, questions)
    print(json.dumps(result.to_dict(), ensure_ascii=False) if args.json else render_eval(result, str(args.file)))
    return 0


def cmd_feedback(settings: Settings, args: argparse.Namespace) -> int:
    """The questions the bot's users voted down, most down votes first (bot.feedback), or with
    --jsonl the same questions as a draft eval set: eval/README.md's format without `expect`."""
    from bot.feedback import tally

    path = settings.index_dir.parent / "feedback.jsonl"
    questions = tally(path)
    if questions is None:
        print(f"no feedback yet ({path} does not exist); votes on the bot's answers are written there")
        return 0
    down = [q for q in questions if q.down]
    if args.jsonl:
        for n, question in enumerate(down, start=1):
            print(json.dumps({"id": f"feedback-{n}", "question": question.question}, ensure_ascii=False))
        return 0
    if not down:
        print(f"no answers voted down ({sum(q.up for q in questions)} 👍)")
    for question in down:
        print(f"{question.down} 👎 {question.up} 👍  {question.question}")
        for source in question.sources:
            print(f"    {source}")
    return 0


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import run

    return run(settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storybot",
        description="Answer questions about a story told across news articles, with quoted, cited snippets.",
    )
    parser.add_argument("--log-level", help="override STORYBOT_LOG_LEVEL (DEBUG, INFO, WARNING, ...)")
    parser.add_argument("--articles", type=Path, metavar="DIR", help="override STORYBOT_ARTICLES_DIR")
    parser.add_argument("--index", type=Path, metavar="DIR", help="override STORYBOT_INDEX_DIR")
    parser.add_argument("--reader", metavar="MODEL", help="override STORYBOT_READER_MODEL (a folder, a name, or none)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    index = commands.add_parser("index", help="build or inspect the index")
    index_commands = index.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    build = index_commands.add_parser("build", help="build or update the index from the articles folder")
    build.add_argument("--full", action="store_true", help="rebuild from scratch, re-embedding every article")
    build.set_defaults(handler=cmd_index_build)
    stats = index_commands.add_parser("stats", help="show what is indexed")
    stats.set_defaults(handler=cmd_index_stats)
    verify = index_commands.add_parser("verify", help="check every index file against the checksums of its build")
    verify.set_defaults(handler=cmd_index_verify)

    add = commands.add_parser("add", help="add articles: web pages by URL, or .txt/.md/.json/.jsonl/.html files")
    add.add_argument("sources", nargs="+", metavar="URL_OR_FILE")
    add.set_defaults(handler=cmd_add)
    remove = commands.add_parser("remove", help="move an article out of the articles folder (into removed/)")
    remove.add_argument("article_id", metavar="ARTICLE_ID", help="as `storybot index stats` shows it, in brackets")
    remove.set_defaults(handler=cmd_remove)

    ask = commands.add_parser("ask", help="answer a question with cited snippets")
    ask.add_argument("question", nargs="+", help="the question; - reads one question a line from stdin")
    ask.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask.set_defaults(handler=cmd_ask)

    evaluation = commands.add_parser("eval", help="score answers against a JSONL question set")
    evaluation.add_argument("file", type=Path, help="questions, one JSON object a line (see eval/README.md)")
    evaluation.add_argument("--json", action="store_true", help="print the metrics and misses as one JSON object")
    evaluation.set_defaults(handler=cmd_eval)

    feedback = commands.add_parser("feedback", help="the questions voted down on Discord, most votes first")
    feedback.add_argument(
        "--jsonl", action="store_true", help="print them as a draft eval set (JSONL without `expect`)"
    )
    feedback.set_defaults(handler=cmd_feedback)

    run = commands.add_parser("run", help="run the Discord bot (needs DISCORD_TOKEN; same as python -m bot)")
    run.set_defaults(handler=cmd_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        overrides: dict[str, object] = {"log_level": args.log_level.upper()} if args.log_level else {}
        if args.articles:
            overrides["articles_dir"] = args.articles
        if args.index:
            overrides["index_dir"] = args.index
        if args.reader:
            overrides["reader_model"] = args.reader
        settings = load_settings(**overrides)
    except SettingsError as exc:
        print(f"storybot: {exc.explain()}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings.log_level)
    from index import StoryError

    try:
        return int(args.handler(settings, args))
    except StoryError as exc:
        print(f"storybot: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("storybot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`storybot ask ... | head`): stop quietly, and keep
        # Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
