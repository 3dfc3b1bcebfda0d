"""The spaCy pipelines, loaded once per process.

Two views of the same package, each with only the pipes its job needs:
- ``ner``: tok2vec + ner (entity extraction runs NER only);
- ``lemmas``: tok2vec + tagger + attribute_ruler + lemmatizer (topic preprocessing; the rule
  lemmatizer needs the tagger's POS), no parser or NER.
spaCy does not promise that one ``Language`` object may run in two threads at once, and
the routes run in a threadpool, so each pipeline has its own lock, held one batch at a time
(``locked_pipe``): a long fit's preprocessing and a short inference request take turns
instead of the short one waiting for the whole fit.
"""

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from kestrel_nlp.models import PipelineInfo

NER_EXCLUDE = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
LEMMA_EXCLUDE = ["parser", "ner", "senter"]


@dataclass
class Pipelines:
    ner: Language
    lemmas: Language
    ner_lock: threading.Lock = field(default_factory=threading.Lock)
    lemmas_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def info(self) -> PipelineInfo:
        meta = self.ner.meta
        return PipelineInfo(name=str(meta["name"]), version=str(meta["version"]), spacy=spacy.about.__version__)


def load_pipelines(model: str) -> Pipelines:
    return Pipelines(ner=spacy.load(model, exclude=NER_EXCLUDE), lemmas=spacy.load(model, exclude=LEMMA_EXCLUDE))


def locked_pipe(nlp: Language, lock: threading.Lock, texts: Iterable[str | Doc], batch_size: int) -> Iterator[Doc]:
    """``nlp.pipe`` with ``lock`` held while the pipeline works (each ``next`` runs at most one batch)."""
    docs = nlp.pipe(texts, batch_size=batch_size)
    while True:
        with lock:
            doc = next(docs, None)
        if doc is None:
            return
        yield doc
