"""Texts to bags of words for topic models: spaCy lemmas, frequent phrases joined, the dictionary's extremes cut.

Deterministic for a given corpus: spaCy's output, gensim's ``Phrases`` and ``Dictionary``
depend only on the order of the documents (ids are given to new tokens in sorted order,
``filter_extremes`` keeps a stable order), and nothing here iterates over a set.

The fitted ``Phraser`` and ``Dictionary`` are stored with the model: inference on new
documents goes through exactly the same steps (``bag_of_words``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gensim.corpora import Dictionary
from gensim.models.phrases import FrozenPhrases, Phrases

from kestrel_nlp.pipeline import Pipelines, locked_pipe

# spaCy batches: small, for memory (see entities.PIPE_BATCH_SIZE; at 64 a 2,000-page fit peaked at 1 GB).
LEMMA_BATCH_SIZE = 8
# Phrases: a bigram seen at least PHRASE_MIN_COUNT times and scoring over PHRASE_THRESHOLD (gensim's default
# scorer, Mikolov et al.) becomes one token, "trail_runner".
PHRASE_MIN_COUNT = 5
PHRASE_THRESHOLD = 10.0
# Dictionary: drop terms in fewer than NO_BELOW documents (typos, one-off names) or in more than NO_ABOVE of
# them (boilerplate: "product", "price"), keep at most KEEP_N.
NO_BELOW = 2
NO_ABOVE = 0.5
KEEP_N = 50_000
MIN_TOKEN_CHARS = 2

Bow = list[tuple[int, int]]


def lemmas(pipelines: Pipelines, texts: Iterable[str]) -> list[list[str]]:
    """Each text's content lemmas, case folded: alphabetic tokens that are not stop words, numbers or punctuation."""
    nlp = pipelines.lemmas
    out = []
    for doc in locked_pipe(nlp, pipelines.lemmas_lock, texts, LEMMA_BATCH_SIZE):
        tokens = []
        for token in doc:
            if not token.is_alpha or token.is_stop or token.like_num:
                continue
            lemma = token.lemma_.casefold()
            if len(lemma) >= MIN_TOKEN_CHARS and lemma not in nlp.Defaults.stop_words:
                tokens.append(lemma)
        out.append(tokens)
    return out


@dataclass
class Prepared:
    phrases: FrozenPhrases
    dictionary: Dictionary
    bows: list[Bow]  # one per input document, in order; empty when nothing of it survived
    tokens: list[list[str]]  # the documents' tokens after phrasing, in order (for coherence)


def prepare(pipelines: Pipelines, texts: Sequence[str]) -> Prepared:
    documents = lemmas(pipelines, texts)
    phrases = Phrases(documents, min_count=PHRASE_MIN_COUNT, threshold=PHRASE_THRESHOLD).freeze()
    phrased = [list(phrases[document]) for document in documents]
    dictionary = Dictionary(phrased)
    dictionary.filter_extremes(no_below=NO_BELOW, no_above=NO_ABOVE, keep_n=KEEP_N)
    return Prepared(
        phrases=phrases,
        dictionary=dictionary,
        bows=[dictionary.doc2bow(document) for document in phrased],
        tokens=phrased,
    )


def bag_of_words(
    pipelines: Pipelines, phrases: FrozenPhrases, dictionary: Dictionary, texts: Sequence[str]
) -> list[Bow]:
    """New documents through a fitted model's own phrases and dictionary (unknown terms dropped)."""
    documents = lemmas(pipelines, texts)
    return [dictionary.doc2bow(list(phrases[document])) for document in documents]
