"""A topic's label, made of its top terms: what a person would scan a list of topics by."""

from collections.abc import Sequence

LABEL_TERMS = 3
SEPARATOR = " · "
NO_TERMS = "(no terms)"


def topic_label(terms: Sequence[str], *, count: int = LABEL_TERMS) -> str:
    """The first ``count`` terms, best first, phrases' underscores as spaces. A term whose words a shown term
    already has (``running`` after ``trail running``) is skipped; a phrase takes the place of a word it contains
    (``trail running`` replaces an earlier ``trail``)."""
    shown: list[str] = []
    for term in terms:
        words = " ".join(term.replace("_", " ").split())
        if not words:
            continue
        tokens = set(words.split(" "))
        if any(tokens <= set(earlier.split(" ")) for earlier in shown):
            continue
        absorbed = [i for i, earlier in enumerate(shown) if set(earlier.split(" ")) <= tokens]
        if absorbed:
            shown[absorbed[0]] = words
            shown = [earlier for i, earlier in enumerate(shown) if i not in absorbed[1:]]
        else:
            shown.append(words)
        if len(shown) == count:
            break
    return SEPARATOR.join(shown) or NO_TERMS
