"""Kestrel's NLP service: spaCy entity extraction and gensim LDA topic models over HTTP.

The Lambdas never import this package (they ship without spaCy or gensim): the
``nlp_entities`` and ``topic_model`` workers call it over HTTP. Run it with
``PYTHONPATH=nlp_service python -m kestrel_nlp --port 3004``.
"""

__version__ = "0.1.0"
