"""Is a document English? A declared language decides; otherwise a measured criterion does.

English first: the pipeline is English, and a page in another language is recorded as
unsupported, with the reason, rather than run through an English model and guessed at.
Without a declaration the criterion is the share of the text's words that are English
stop words: English prose sits around 0.4-0.5, short product copy above 0.25, and other
languages written in Latin script well under 0.15 (their few shared forms: "die", "a", "in").
"""

from dataclasses import dataclass

from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc

SUPPORTED = ("en",)
STOP_WORD_THRESHOLD = 0.15
# Below this many words the ratio says little; such texts are taken as English.
MIN_WORDS_TO_MEASURE = 20


@dataclass(frozen=True)
class LanguageCheck:
    language: str | None
    supported: bool
    reason: str | None


def primary_subtag(tag: str) -> str:
    return tag.strip().replace("_", "-").split("-", 1)[0].casefold()


def check_language(declared: str | None, doc: Doc) -> LanguageCheck:
    """``doc`` is the tokenised text (no pipes needed)."""
    if declared is not None and declared.strip():
        if primary_subtag(declared) in SUPPORTED:
            return LanguageCheck(declared, True, None)
        supported = ", ".join(SUPPORTED)
        return LanguageCheck(declared, False, f"language '{declared}' is not supported (supported: {supported})")
    words = [token.lower_ for token in doc if token.is_alpha]
    if len(words) < MIN_WORDS_TO_MEASURE:
        return LanguageCheck("en", True, None)
    ratio = sum(1 for word in words if word in STOP_WORDS) / len(words)
    if ratio >= STOP_WORD_THRESHOLD:
        return LanguageCheck("en", True, None)
    return LanguageCheck(
        None,
        False,
        f"no language declared and the text does not read as English: {ratio:.2f} of its {len(words)} words"
        f" are English stop words (threshold {STOP_WORD_THRESHOLD:.2f})",
    )
