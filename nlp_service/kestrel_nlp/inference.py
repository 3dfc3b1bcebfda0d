"""POST /v1/topics/infer: topic weights of new documents under a stored model.

Models are loaded from S3 by prefix and kept in a small LRU cache (``models_cache``
setting). Inference on one model is serialised by its lock: it resets the model's random
state for each document (see topics.document_topics).
"""

import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from gensim.corpora import Dictionary
from gensim.models import LdaModel
from gensim.models.phrases import FrozenPhrases

from kestrel_nlp import preprocess, topics
from kestrel_nlp.fitting import META
from kestrel_nlp.models import InferDocumentIn, InferDocumentOut, InferOut, TopicWeight
from kestrel_nlp.pipeline import Pipelines
from kestrel_nlp.problems import Problem
from kestrel_nlp.storage import Storage


@dataclass
class LoadedModel:
    version: str
    seed: int
    model: LdaModel
    dictionary: Dictionary
    phrases: FrozenPhrases
    lock: threading.Lock = field(default_factory=threading.Lock)


class ModelCache:
    def __init__(self, storage: Storage, size: int) -> None:
        self.storage, self.size = storage, size
        self._models: OrderedDict[tuple[str, str], LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, bucket: str, prefix: str) -> LoadedModel:
        prefix = prefix.rstrip("/") + "/"
        key = (bucket, prefix)
        with self._lock:  # one load at a time: a second request for the same model waits for the first
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            loaded = self._load(bucket, prefix)
            self._models[key] = loaded
            while len(self._models) > self.size:
                self._models.popitem(last=False)
            return loaded

    def _load(self, bucket: str, prefix: str) -> LoadedModel:
        if not self.storage.exists(bucket, prefix + META):
            raise Problem(404, "Not found", f"No topic model at s3://{bucket}/{prefix} (no {META} there).")
        meta = self.storage.read_json(bucket, prefix + META)
        with tempfile.TemporaryDirectory(prefix="kestrel-nlp-model-") as directory:
            path = Path(directory)
            self.storage.download_prefix(bucket, prefix, path)
            return LoadedModel(
                version=meta["response"]["version"],
                seed=int(meta["fit_seed"]),
                model=LdaModel.load(str(path / "model")),
                dictionary=Dictionary.load(str(path / "dictionary")),
                phrases=FrozenPhrases.load(str(path / "phrases")),
            )


def infer(pipelines: Pipelines, loaded: LoadedModel, documents: list[InferDocumentIn]) -> InferOut:
    bows = preprocess.bag_of_words(pipelines, loaded.phrases, loaded.dictionary, [d.text for d in documents])
    with loaded.lock:
        distributions = topics.document_topics(loaded.model, bows, loaded.seed)
    return InferOut(
        version=loaded.version,
        documents=[
            InferDocumentOut(
                id=document.id,
                topics=[TopicWeight(topic_id=t, weight=round(w, 4)) for t, w in weights],
            )
            for document, weights in zip(documents, distributions, strict=True)
        ],
    )
