"""Other names for the same person or thing, mined from the articles' own wording.

Articles introduce aliases in a few fixed shapes: "Kim Taehyung, aka V", "V (Kim Taehyung)",
"World Health Organization (WHO)", "X, also known as Y". A question that uses one name should
find passages that use another, so questions are expanded with every alias of a name they use.
Small embedding models are especially sensitive to this: a one-letter stage name embeds nothing
like the person's full name.

Parentheses hold many things besides aliases ("Love Wins All (MV)", "SEOUL (Reuters) -"), so a
pair from them is kept only when one side is the other's abbreviation by the Schwartz–Hearst rule
(its letters in order, the first at the start of a word: "World Health Organization (WHO)"), or
when neither side is an abbreviation and both read as names ("V (Kim Taehyung)"). Stop words are
never names, and a dateline's wire service is never an alias of its city.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from index.lexical import STOPWORDS

_NAME = r"[A-Z][\w'’.-]*(?:[ \t]+[A-Z][\w'’.-]*){0,3}"
_PARENTHESES = re.compile(rf"(?P<a>{_NAME})[ \t]*\((?P<b>{_NAME})\)")
_AKA = re.compile(
    rf"(?P<a>{_NAME}),?[ \t]+(?:aka|a\.k\.a\.?|also known as|better known as|known as)[ \t]+(?P<b>{_NAME})"
)
_POSSESSIVE = re.compile(r"^.*['’]s\s+")
_DATELINE_DASH = re.compile(r"[ \t]*[-–—]")  # "SEOUL (Reuters) - ...": the agency that filed the story
# The question and one alias: measured on the eval sets, a third or fourth variant changed no answer,
# and each variant is one more text for the model per question.
MAX_VARIANTS = 2


def _tidy(name: str) -> str:
    name = _POSSESSIVE.sub("", name.strip())  # "BTS's V" names V
    words = name.strip(" .,'’-").split()
    while words and _is_stop_word(words[0]):  # "The World Health Organization": the name starts after "The"
        words.pop(0)
    return " ".join(words)


def _is_acronym(name: str) -> bool:
    """One word of two or more capitals ("WHO", "U.N.", "MV"): an abbreviation, to be checked as one."""
    letters = name.replace(".", "").replace("-", "")
    return " " not in name and len(letters) >= 2 and letters.isupper()


def abbreviates(short: str, long: str) -> bool:
    """Schwartz & Hearst (2003): every letter or digit of `short`, right to left, found in order in
    `long`, the first of them at the start of one of its words."""
    characters = [c.lower() for c in short if c.isalnum()]
    if not characters or not characters[0].isalpha():
        return False
    text = long.lower()
    position = len(text)
    for index in range(len(characters) - 1, -1, -1):
        character = characters[index]
        position -= 1
        while position >= 0 and (
            text[position] != character or (index == 0 and position > 0 and text[position - 1].isalnum())
        ):
            position -= 1
        if position < 0:
            return False
    return True


def _is_stop_word(name: str) -> bool:
    return name.lower() in STOPWORDS and not _is_acronym(name)  # "The" is a stop word, "WHO" is not


def _is_name(name: str) -> bool:
    words = name.split()
    return bool(words) and all(word[0].isupper() and word.lower() not in STOPWORDS for word in words)


def same_thing(a: str, b: str) -> bool:
    """Whether "a (b)" introduces b as another name of a (or a of b)."""
    if not a or not b or a.lower() == b.lower() or _is_stop_word(a) or _is_stop_word(b):
        return False
    short, long = sorted((a, b), key=len)
    if _is_acronym(short):
        return abbreviates(short, long)
    return not _is_acronym(long) and _is_name(a) and _is_name(b)


def mine(texts: Iterable[str]) -> list[list[str]]:
    """Groups of names that the texts say are the same, each group sorted, largest first."""
    texts = list(texts)
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    abbreviated: set[str] = set()  # names that stand for an organisation's initials, not a person
    for text in texts:
        for match in _PARENTHESES.finditer(text):
            a, b = _tidy(match["a"]), _tidy(match["b"])
            if _DATELINE_DASH.match(text, match.end()) or not same_thing(a, b):
                continue
            parent[find(a)] = find(b)
            if _is_acronym(a) or _is_acronym(b):
                abbreviated.update((a, b))
        for match in _AKA.finditer(text):  # the text says outright that they are the same
            a, b = _tidy(match["a"]), _tidy(match["b"])
            if a and b and a.lower() != b.lower() and _is_name(a) and _is_name(b):
                parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for name in parent:
        groups.setdefault(find(name), set()).add(name)
    corpus = "\n".join(texts)
    for members in groups.values():
        if not members & abbreviated:  # "Taehyung" names Kim Taehyung; "Health" does not name the WHO
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
        parts.update(
            word
            for word in words
            if len(word) >= 3 and word.lower() not in STOPWORDS and len(_mention(word).findall(corpus)) - whole >= 2
        )
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
