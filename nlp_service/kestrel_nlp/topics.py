"""LDA topic models: the number of topics chosen by coherence and stability, then one deterministic fit.

The search fits each k of the grid twice, with the request's seed and the next one, at
lighter settings (``SEARCH``), and measures:
- **coherence**: mean NPMI of each topic's top terms (gensim's ``c_npmi``: boolean sliding
  windows of 10 tokens over the preprocessed documents; -1 for terms that never meet, +1 for
  terms that always do), of the first seed's fit;
- **stability**: the two fits' topics are matched one to one by the Jaccard similarity of
  their top terms (scipy's ``linear_sum_assignment``, maximising the total), and the mean
  matched similarity is the k's stability (1: the same topics whatever the seed).
A k's coherence is that of the more coherent of its two fits: LDA falls into a poor local
optimum for some seeds (on planted topics about one fit in five merges two topics and splits
a third), and the better start is kept. The chosen k is the smallest whose coherence is
within ``COHERENCE_TOLERANCE`` of the best among the stable ones (stability >= ``STABLE``):
coherence alone cannot tell three topics from four when the fourth halves one of them. If no
k is stable, the most stable wins. Then the model is fitted once more at that k with the
full settings (``FINAL``), from the seed of its better search fit.

Every fit is a single-process ``LdaModel`` with a fixed ``random_state`` (``LdaMulticore``
is neither reproducible nor usable without /dev/shm), so the same corpus, seed and grid
give the same topics. Inference draws its starting point from the model's random state:
each document is inferred from a fresh state seeded with the model's seed, so a document's
topics do not depend on the documents sent with it.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from gensim.corpora import Dictionary
from gensim.models import LdaModel
from gensim.models.coherencemodel import CoherenceModel
from scipy.optimize import linear_sum_assignment

from kestrel_nlp.preprocess import Bow

logger = logging.getLogger("kestrel_nlp.topics")

COHERENCE_MEASURE = "c_npmi"
COHERENCE_WINDOW = 10
TOP_TERMS = 10  # terms per topic for coherence, stability and the response
STABLE = 0.5
# Coherences this close count as equal: the fewer topics win (a split topic is as coherent as its whole).
COHERENCE_TOLERANCE = 0.02
# The default grid, cut to k <= documents / DOCUMENTS_PER_TOPIC (and at least its first value).
DEFAULT_GRID = (3, 5, 8, 12, 16)
DOCUMENTS_PER_TOPIC = 5
MIN_DOCUMENTS = 5
MIN_WEIGHT = 0.01
MIN_CHUNKSIZE = 16
MAX_CHUNKSIZE = 2_000  # topic weights below this are left out of a document's distribution


def chunksize_for(documents: int) -> int:
    """Documents per online update: about ten updates a pass (fewer, larger ones leave small corpora unconverged)."""
    return min(MAX_CHUNKSIZE, max(MIN_CHUNKSIZE, documents // 10))


@dataclass(frozen=True)
class LdaSettings:
    passes: int
    iterations: int

    def parameters(self, documents: int, k: int, seed: int) -> dict[str, Any]:
        """``LdaModel``'s keyword arguments besides the corpus and dictionary (stored in meta.json)."""
        return {
            "num_topics": k,
            "random_state": seed,
            "passes": self.passes,
            "iterations": self.iterations,
            "chunksize": chunksize_for(documents),
            "alpha": "symmetric",
            "eval_every": None,  # no perplexity estimates: they cost a pass each and change nothing
            "update_every": 1,
        }

    def fit(self, bows: Sequence[Bow], dictionary: Dictionary, k: int, seed: int) -> LdaModel:
        return LdaModel(corpus=bows, id2word=dictionary, **self.parameters(len(bows), k, seed))


SEARCH = LdaSettings(passes=5, iterations=50)
FINAL = LdaSettings(passes=10, iterations=100)


@dataclass(frozen=True)
class CandidateResult:
    k: int
    coherence: float  # of the more coherent of the two seeds' fits
    stability: float
    seed: int  # the seed of that fit: the final fit starts from it


@dataclass(frozen=True)
class Choice:
    k: int
    seed: int
    why: str
    candidates: list[CandidateResult]


def default_grid(documents: int) -> list[int]:
    ceiling = max(DEFAULT_GRID[0], documents // DOCUMENTS_PER_TOPIC)
    return [k for k in DEFAULT_GRID if k <= ceiling]


def top_term_ids(model: LdaModel, topn: int = TOP_TERMS) -> list[list[int]]:
    """Each topic's ``topn`` term ids, heaviest first (ties broken by id: stable)."""
    topics = model.get_topics()
    return [[int(i) for i in np.argsort(-row, kind="stable")[:topn]] for row in topics]


def stability(first: list[list[int]], second: list[list[int]]) -> float:
    """Mean Jaccard similarity of the two fits' topics under the best one-to-one matching."""
    similarity = np.array([[len(set(a) & set(b)) / len(set(a) | set(b)) for b in second] for a in first])
    rows, columns = linear_sum_assignment(similarity, maximize=True)
    return float(similarity[rows, columns].mean())


class Coherence:
    """NPMI coherence over the preprocessed texts, with the co-occurrence counts gathered once for many topic sets."""

    def __init__(self, tokens: list[list[str]], dictionary: Dictionary, topic_sets: list[list[list[int]]]) -> None:
        self.tokens, self.dictionary = tokens, dictionary
        union = sorted({term for topics in topic_sets for topic in topics for term in topic})
        self.model = CoherenceModel(
            topics=[union],
            texts=tokens,
            dictionary=dictionary,
            coherence=COHERENCE_MEASURE,
            window_size=COHERENCE_WINDOW,
            topn=len(union),
            processes=1,
        )
        self.model.estimate_probabilities()

    def per_topic(self, topics: list[list[int]]) -> list[float]:
        """Counts for terms outside the first sets are gathered again (gensim notices and recomputes)."""
        self.model.topn = TOP_TERMS
        self.model.topics = [np.array(topic) for topic in topics]
        return [float(value) for value in self.model.get_coherence_per_topic()]


def choose_k(
    bows: Sequence[Bow], dictionary: Dictionary, tokens: list[list[str]], grid: Sequence[int], seed: int
) -> tuple[Choice, Coherence]:
    seeds = (seed, seed + 1)
    fits: dict[int, tuple[list[list[int]], ...]] = {}
    for k in grid:
        began = time.perf_counter()
        fits[k] = tuple(top_term_ids(SEARCH.fit(bows, dictionary, k, s)) for s in seeds)
        logger.debug("Search fits", extra={"k": k, "seconds": round(time.perf_counter() - began, 3)})
    coherence = Coherence(tokens, dictionary, [topics for pair in fits.values() for topics in pair])
    candidates = []
    for k, pair in fits.items():
        scores = [float(np.mean(coherence.per_topic(topics))) for topics in pair]
        best = int(np.argmax(scores))  # the first seed on a tie
        candidates.append(CandidateResult(k=k, coherence=scores[best], stability=stability(*pair), seed=seeds[best]))
    return choose(candidates, seeds), coherence


def choose(candidates: list[CandidateResult], seeds: tuple[int, int]) -> Choice:
    """The smallest stable k whose coherence is within COHERENCE_TOLERANCE of the best stable one's."""
    stable = [c for c in candidates if c.stability >= STABLE]
    table = ", ".join(f"k={c.k} {c.coherence:.3f}/{c.stability:.2f}" for c in candidates)
    if stable:
        top = max(c.coherence for c in stable)
        best = min((c for c in stable if c.coherence >= top - COHERENCE_TOLERANCE), key=lambda c: c.k)
        why = (
            f"k={best.k}: the fewest topics within {COHERENCE_TOLERANCE} of the highest mean NPMI coherence"
            f" ({top:.3f}) among the k stable across seeds {seeds[0]} and {seeds[1]} (stability >= {STABLE}:"
            f" mean top-{TOP_TERMS} term Jaccard of matched topics); coherence {best.coherence:.3f},"
            f" stability {best.stability:.2f}. Coherence/stability per k: {table}"
        )
    else:
        best = max(candidates, key=lambda c: (c.stability, c.coherence, -c.k))
        why = (
            f"k={best.k}: no k reached stability {STABLE} across seeds {seeds[0]} and {seeds[1]}, so the most"
            f" stable ({best.stability:.2f}, coherence {best.coherence:.3f}). Coherence/stability per k: {table}"
        )
    return Choice(k=best.k, seed=best.seed, why=why, candidates=candidates)


def document_topics(model: LdaModel, bows: Sequence[Bow], seed: int) -> list[list[tuple[int, float]]]:
    """Each document's topic weights (>= MIN_WEIGHT, heaviest first), independent of the batch it came in."""
    out: list[list[tuple[int, float]]] = []
    for bow in bows:
        if not bow:
            out.append([])
            continue
        model.random_state = np.random.RandomState(seed)
        gamma, _ = model.inference([bow])
        weights = gamma[0] / gamma[0].sum()
        order = np.argsort(-weights, kind="stable")
        out.append([(int(t), float(weights[t])) for t in order if weights[t] >= MIN_WEIGHT])
    return out
