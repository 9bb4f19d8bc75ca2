"""Votes on public answers, kept as JSONL beside the index folder, for drafting eval sets.

Three files in the index folder's parent (`StoryService.feedback_path` names the first):

- `feedback.jsonl`: one line per vote, whole in itself (the question, the snippets shown with
  their sources, the vote, the time, a salted voter hash). A user who votes again on the same
  answer appends a new line with the same voter hash; readers take the last line per (answer,
  voter), so a vote changes and is never counted twice.
- `answers.jsonl`: one line per public answer as it is posted (its id, the question, the snippets
  with their sources), so a vote that arrives after a restart still knows what it was about.
- `feedback.salt`: 32 random bytes (hex), created once with mode 0600. A voter is
  sha256(salt, answer id, user id): the same person on the same answer always hashes the same,
  and without the salt nobody can tell who voted; no user ids or names are written anywhere.

Each line is one `os.write` on a file opened with O_APPEND, so lines from several votes at once,
or from several bot processes over one folder, never interleave. Nothing here knows Discord; the
methods block (file I/O) and the bot calls them with `asyncio.to_thread`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from index import Answer

log = logging.getLogger(__name__)

Vote = Literal["up", "down"]
VOTES: tuple[Vote, ...] = ("up", "down")
EMOJI: dict[Vote, str] = {"up": "👍", "down": "👎"}
ANSWER_ID_HEX = 12  # secrets.token_hex(6): 48 random bits, fits a custom id with room to spare
_RECENT = 1_000  # answer records kept in memory; older ones are read back from answers.jsonl


class FeedbackError(Exception):
    """A vote that cannot be recorded; the message says why, to the voter."""


@dataclass(frozen=True)
class Voted:
    """What a vote did: `previous` is the voter's earlier vote on that answer (None: the first)."""

    vote: Vote
    previous: Vote | None

    @property
    def recorded(self) -> bool:
        return self.vote != self.previous


def answer_record(answer_id: str, answer: Answer, now: dt.datetime) -> dict[str, Any]:
    """What a public answer showed: the question and each snippet with its sources."""
    return {
        "answer": answer_id,
        "time": now.isoformat(timespec="seconds"),
        "question": answer.question,
        "snippets": [
            {
                "n": citation.n,
                "text": citation.snippet,
                "sources": [
                    {
                        "article_id": s.article_id,
                        "outlet": s.outlet,
                        "title": s.title,
                        "date": s.date,
                        "url": s.url,
                    }
                    for s in citation.sources
                ],
            }
            for citation in answer.citations
        ],
    }


class FeedbackLog:
    """The three files above, for one bot process; safe to call from several threads at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.answers_path = path.with_name("answers.jsonl")
        self.salt_path = path.with_suffix(".salt")
        self._lock = threading.Lock()
        self._salt: bytes | None = None
        self._recent: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._votes: dict[tuple[str, str], Vote] | None = None  # (answer, voter) -> last vote, read once

    def new_answer(self, answer: Answer, now: dt.datetime | None = None) -> str:
        """Record a public answer about to be posted; its id, for the vote buttons."""
        answer_id = secrets.token_hex(ANSWER_ID_HEX // 2)
        record = answer_record(answer_id, answer, now or dt.datetime.now(dt.UTC))
        with self._lock:
            _append(self.answers_path, record)
            self._remember(record)
        return answer_id

    def vote(self, answer_id: str, user_id: int, vote: Vote, now: dt.datetime | None = None) -> Voted:
        """One user's vote on one answer: appended when it is new or changed, not when repeated."""
        with self._lock:
            record = self._record(answer_id)
            if record is None:
                raise FeedbackError("I no longer have the details of that answer, so the vote was not recorded.")
            voter = self._voter(answer_id, user_id)
            votes = self._known_votes()
            previous = votes.get((answer_id, voter))
            if previous != vote:
                line = {
                    "answer": answer_id,
                    "vote": vote,
                    "voter": voter,
                    "time": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
                    "question": record["question"],
                    "snippets": record["snippets"],
                }
                _append(self.path, line)
                votes[(answer_id, voter)] = vote
        return Voted(vote, previous)

    # --- inside the lock ---------------------------------------------------------------------

    def _remember(self, record: dict[str, Any]) -> None:
        self._recent[record["answer"]] = record
        while len(self._recent) > _RECENT:
            self._recent.popitem(last=False)

    def _record(self, answer_id: str) -> dict[str, Any] | None:
        if answer_id in self._recent:
            return self._recent[answer_id]
        found = None
        for record in _lines(self.answers_path):  # after a restart, or an answer too old to be in memory
            if record.get("answer") == answer_id:
                found = record
        if found is not None:
            self._remember(found)
        return found

    def _known_votes(self) -> dict[tuple[str, str], Vote]:
        if self._votes is None:
            self._votes = {(v["answer"], v["voter"]): v["vote"] for v in _lines(self.path) if _is_vote(v)}
        return self._votes

    def _voter(self, answer_id: str, user_id: int) -> str:
        if self._salt is None:
            self._salt = _salt(self.salt_path)
        return hashlib.sha256(self._salt + f"{answer_id}:{user_id}".encode()).hexdigest()[:32]


def _salt(path: Path) -> bytes:
    """The salt, created on first use (0600); another process creating it at the same moment wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    salt = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as file:
        file.write(salt.hex() + "\n")
    return salt


def _append(path: Path, record: dict[str, Any]) -> None:
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, data)  # one write per line: O_APPEND keeps concurrent lines whole
    finally:
        os.close(fd)


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    """Each JSON object of a JSONL file; a damaged line (a crash mid-write) is skipped."""
    try:
        file = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with file:
        for number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s line %d is not JSON; skipped", path, number)
                continue
            if isinstance(value, dict):
                yield value


def _is_vote(line: dict[str, Any]) -> bool:
    return isinstance(line.get("answer"), str) and isinstance(line.get("voter"), str) and line.get("vote") in VOTES


# --- reading it back -------------------------------------------------------------------------


@dataclass
class QuestionVotes:
    """One question (as first asked; case and spacing folded to group) and its final votes."""

    question: str
    up: int = 0
    down: int = 0
    sources: list[str] = field(default_factory=list)  # the sources its answers showed, first seen first


def tally(path: Path) -> list[QuestionVotes] | None:
    """Each question with its votes, the last vote per voter per answer counting; most down votes
    first, then fewest up votes. None when there is no feedback file yet."""
    if not path.exists():
        return None
    final: dict[tuple[str, str], dict[str, Any]] = {}
    for line in _lines(path):
        if _is_vote(line) and isinstance(line.get("question"), str):
            final[(line["answer"], line["voter"])] = line  # later lines replace earlier ones
    by_question: dict[str, QuestionVotes] = {}
    for line in final.values():
        key = " ".join(line["question"].casefold().split())
        votes = by_question.setdefault(key, QuestionVotes(" ".join(line["question"].split())))
        if line["vote"] == "up":
            votes.up += 1
        else:
            votes.down += 1
        for source in _sources_of(line):
            if source not in votes.sources:
                votes.sources.append(source)
    return sorted(by_question.values(), key=lambda q: (-q.down, q.up, q.question.casefold()))


def _sources_of(line: dict[str, Any]) -> Iterator[str]:
    snippets = line.get("snippets")
    for snippet in snippets if isinstance(snippets, list) else []:
        for source in snippet.get("sources") or [] if isinstance(snippet, dict) else []:
            if isinstance(source, dict):
                parts = (source.get("outlet"), source.get("title") or source.get("article_id"), source.get("date"))
                yield " · ".join(str(p) for p in parts if p)
