"""Other names for the same person or thing, mined from the articles' own wording.

Articles introduce aliases in a few fixed shapes: "Kim Taehyung, aka V", "V (Kim Taehyung)",
"World Health Organization (WHO)", "X, also known as Y". A question that uses one name should
find passages that use another, so questions are expanded with every alias of a name they use.
Small embedding models are especially sensitive to this: a one-letter stage name embeds nothing
like the person's full name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_NAME = r"[A-Z][\w'’.-]*(?:[ \t]+[A-Z][\w'’.-]*){0,3}"
_PARENTHESES = re.compile(rf"(?P<a>{_NAME})[ \t]*\((?P<b>{_NAME})\)")
_AKA = re.compile(
    rf"(?P<a>{_NAME}),?[ \t]+(?:aka|a\.k\.a\.?|also known as|better known as|known as)[ \t]+(?P<b>{_NAME})"
)
_POSSESSIVE = re.compile(r"^.*['’]s\s+")
# The question and one alias: measured on the eval sets, a third or fourth variant changed no answer,
# and each variant is one more text for the model per question.
MAX_VARIANTS = 2


def _tidy(name: str) -> str:
    name = _POSSESSIVE.sub("", name.strip())  # "BTS's V" names V
    return name.strip(" .,'’-")


def mine(texts: Iterable[str]) -> list[list[str]]:
    """Groups of names that the texts say are the same, each group sorted, largest first."""
    texts = list(texts)
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for text in texts:
        for pattern in (_PARENTHESES, _AKA):
            for match in pattern.finditer(text):
                a, b = _tidy(match["a"]), _tidy(match["b"])
                if a and b and a.lower() != b.lower():
                    parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for name in parent:
        groups.setdefault(find(name), set()).add(name)
    corpus = "\n".join(texts)
    for members in groups.values():
        members.update(_standalone_parts(members, corpus))
    return sorted((sorted(g) for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g))


def _standalone_parts(names: set[str], corpus: str) -> set[str]:
    """Single words of a multi-word name that the articles also use on their own ("Taehyung")."""
    parts: set[str] = set()
    for name in names:
        words = name.split()
        if len(words) < 2:
            continue
        whole = len(_mention(name).findall(corpus))
        parts.update(w for w in words if len(w) >= 3 and len(_mention(w).findall(corpus)) - whole >= 2)
    return parts


def _mention(name: str) -> re.Pattern[str]:
    # Short names ("V", "IU") must match as written; longer ones in any case ("taehyung").
    flags = 0 if len(name) <= 3 else re.IGNORECASE
    return re.compile(rf"(?<![\w’'-]){re.escape(name)}(?![\w’'-])", flags)


def expand(question: str, groups: Sequence[Sequence[str]]) -> list[str]:
    """The question as asked, then with each name it mentions swapped for its aliases."""
    variants = [question]
    for group in groups:
        for name in sorted(group, key=len, reverse=True):
            match = _mention(name).search(question)
            if match is None:
                continue
            for other in group:
                if other != name and len(variants) < MAX_VARIANTS:
                    variants.append(question[: match.start()] + other + question[match.end() :])
            break
    return variants
