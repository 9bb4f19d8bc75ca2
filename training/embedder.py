"""The cheaper variant the reader was measured against: fine-tune the embedding model itself on the
same training stories (question -> the passage that answers it, retrieval's best wrong passages as
hard negatives), so that retrieval alone ranks answers first at today's latency.

    python -m training.embedder --out build/embedder   # then STORYBOT_EMBEDDING_MODEL=build/embedder

Not shipped (see training/README.md for what it gave); kept so the comparison can be rerun.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from index.embedding import DEFAULT_MODEL, SentenceTransformerEmbedder, resolve_model
from training.reader import collect, load_stories


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("build/embedder"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--negatives", type=int, default=2, help="hard negatives per question")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)

    import torch
    from sentence_transformers import SentenceTransformer

    random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    stories = [s for s in load_stories() if not s.validation]
    groups = [g for g in collect(stories, SentenceTransformerEmbedder(DEFAULT_MODEL)) if not g.abstain]
    model = SentenceTransformer(resolve_model(DEFAULT_MODEL))
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    rng = random.Random(args.seed)
    started, step = time.perf_counter(), 0
    for epoch in range(args.epochs):
        rng.shuffle(groups)
        for begin in range(0, len(groups) - args.batch + 1, args.batch):
            batch = groups[begin : begin + args.batch]
            questions, passages = [], []
            for g in batch:
                positives = [p for p, y in zip(g.passages, g.labels, strict=True) if y]
                negatives = [p for p, y in zip(g.passages, g.labels, strict=True) if not y][: args.negatives * 2]
                questions.append(g.question)
                passages.append(rng.choice(positives))
                passages += rng.sample(negatives, min(args.negatives, len(negatives)))
            # In-batch negatives plus the hard ones: each question must pick its own answer among all passages.
            q = model(model.tokenize(questions))["sentence_embedding"]
            p = model(model.tokenize(passages))["sentence_embedding"]
            q, p = torch.nn.functional.normalize(q, dim=-1), torch.nn.functional.normalize(p, dim=-1)
            targets, at = [], 0
            for g in batch:
                targets.append(at)
                at += 1 + min(args.negatives, sum(1 for y in g.labels if not y))
            loss = torch.nn.functional.cross_entropy(20.0 * q @ p.T, torch.tensor(targets))
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            optimizer.zero_grad()
            step += 1
            if step % 20 == 0:
                minutes = (time.perf_counter() - started) / 60
                print(f"  epoch {epoch + 1} step {step} loss {loss.item():.3f} {minutes:.1f} min", file=sys.stderr)
    model.eval()
    model.save(str(args.out))
    print(f"embedder written to {args.out} ({(time.perf_counter() - started) / 60:.0f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
