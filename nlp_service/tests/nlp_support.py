"""What the NLP service's tests share: paths, the region, and planted-topic corpora (three disjoint vocabularies)."""

import gzip
import json
import random
from pathlib import Path
from typing import Any

REGION = "eu-west-1"
SERVICE_DIR = Path(__file__).resolve().parents[1]

# Singular nouns that are their own lemma, so that a topic's terms can be traced to their vocabulary.
_WORDS = {
    "baking": """flour oven butter sugar dough yeast loaf pastry whisk cake biscuit crust vanilla cinnamon muffin
        baker batter scone caramel ginger""",
    "astronomy": """telescope galaxy planet orbit comet nebula asteroid eclipse meteor supernova astronomer
        observatory quasar constellation moon spectrum gravity pulsar cosmos starlight""",
    "sailing": """hull mast anchor harbour keel rudder sailor yacht regatta mooring tiller spinnaker dinghy skipper
        marina tide bowline jib ballast lighthouse""",
}
VOCABULARIES = {theme: words.split() for theme, words in _WORDS.items()}
THEMES = sorted(VOCABULARIES)


def planted_documents(count: int = 150, words: int = 60, seed: int = 2) -> list[dict[str, str]]:
    """Document n is about THEMES[n % 3]: ``words`` words drawn from that vocabulary alone."""
    rng = random.Random(seed)
    documents = []
    for number in range(count):
        vocabulary = VOCABULARIES[THEMES[number % len(THEMES)]]
        text = " ".join(rng.choice(vocabulary) for _ in range(words)) + "."
        documents.append({"id": f"doc-{number:04d}", "text": text})
    return documents


def theme_of(document_id: str) -> str:
    return THEMES[int(document_id.removeprefix("doc-")) % len(THEMES)]


def corpus_bytes(documents: list[dict[str, Any]]) -> bytes:
    body = "".join(json.dumps(document) + "\n" for document in documents).encode()
    return gzip.compress(body, mtime=0)
