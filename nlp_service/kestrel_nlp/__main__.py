"""``python -m kestrel_nlp --host 0.0.0.0 --port 8080``: one uvicorn worker, JSON logs on stdout.

One worker per process (and per Fargate task): spaCy and the topic models live in its memory,
and the service scales by tasks, not by forked workers.
"""

import argparse
import logging
import sys

import uvicorn

from kestrel_nlp.app import create_app
from kestrel_nlp.logs import configure_logging
from kestrel_nlp.settings import ConfigurationError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kestrel_nlp", description="Kestrel's NLP service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"kestrel_nlp: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    configure_logging(settings.log_level)
    app = create_app(settings)
    logging.getLogger("kestrel_nlp").info(
        "Starting", extra={"host": args.host, "port": args.port, "spacy_model": settings.spacy_model}
    )
    uvicorn.run(app, host=args.host, port=args.port, workers=1, log_config=None, access_log=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
