"""The FastAPI application: routes, readiness, limits.

The spaCy pipelines load in a background thread started by the lifespan, so /health
answers at once and /ready says 503 until they are loaded (the load balancer's health
check is /ready). A failed load stops the process: a task that cannot serve should be
replaced, not kept half-alive. The CPU-bound routes are plain ``def``: FastAPI runs them in
its threadpool, so the event loop keeps answering /health and /ready during a long fit.
"""

import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import gensim
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kestrel_nlp import __version__
from kestrel_nlp.entities import extract
from kestrel_nlp.fitting import fit
from kestrel_nlp.inference import ModelCache, infer
from kestrel_nlp.models import EntitiesIn, EntitiesOut, FitIn, FitOut, Health, InferIn, InferOut, Ready, VersionInfo
from kestrel_nlp.pipeline import Pipelines, load_pipelines
from kestrel_nlp.problems import BodyLimit, Problem, field_error, install_handlers, problem
from kestrel_nlp.settings import Settings
from kestrel_nlp.storage import Storage

logger = logging.getLogger("kestrel_nlp")

EXIT_LOAD_FAILED = 3

PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"description": title, "content": {"application/problem+json": {}}}
    for status, title in ((404, "Not found"), (413, "Content too large"), (422, "Validation failed"))
}


@dataclass
class State:
    settings: Settings
    pipelines: Pipelines | None = None
    load_error: str | None = None
    ready_seconds: float | None = None
    started: float = field(default_factory=time.perf_counter)


def _load(state: State, loader: Callable[[str], Pipelines]) -> None:
    try:
        state.pipelines = loader(state.settings.spacy_model)
    except Exception as exc:
        state.load_error = f"{type(exc).__name__}: {exc}"
        logger.critical("Could not load the spaCy pipeline %r; exiting", state.settings.spacy_model, exc_info=True)
        logging.shutdown()
        os._exit(EXIT_LOAD_FAILED)
    state.ready_seconds = time.perf_counter() - state.started
    logger.info(
        "Pipeline loaded",
        extra={"pipeline": state.pipelines.info.model_dump(), "ready_seconds": round(state.ready_seconds, 3)},
    )


def create_app(
    settings: Settings,
    *,
    pipelines: Pipelines | None = None,
    loader: Callable[[str], Pipelines] = load_pipelines,
    storage: Storage | None = None,
) -> FastAPI:
    """``pipelines`` given (tests load them once per session) skips the load."""
    state = State(settings=settings, pipelines=pipelines)
    store = storage or Storage()
    models = ModelCache(store, settings.models_cache)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.pipelines is None:
            threading.Thread(target=_load, args=(state, loader), name="load-pipelines", daemon=True).start()
        yield

    app = FastAPI(title="Kestrel NLP", version=__version__, lifespan=lifespan)
    app.state.nlp = state
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    install_handlers(app)

    def ready_pipelines() -> Pipelines:
        if state.pipelines is None:
            detail = state.load_error or f"The spaCy pipeline {settings.spacy_model!r} is still loading."
            raise Problem(503, "Service unavailable", detail)
        return state.pipelines

    @app.get("/health")
    def health() -> Health:
        return Health()

    @app.get("/ready", response_model=Ready, responses={503: {"description": "Still loading"}})
    async def ready(request: Request) -> Ready | JSONResponse:
        if state.pipelines is None:
            detail = state.load_error or f"The spaCy pipeline {settings.spacy_model!r} is still loading."
            return problem(503, "Service unavailable", detail)
        return Ready(pipeline=state.pipelines.info)

    @app.get("/version")
    def version() -> VersionInfo:
        return VersionInfo(version=__version__, pipeline=ready_pipelines().info, gensim=gensim.__version__)

    def check_batch(texts: list[str]) -> None:
        if len(texts) > settings.max_documents:
            raise Problem(
                413,
                "Content too large",
                f"{len(texts)} documents in one request; the limit is {settings.max_documents}.",
            )
        for index, text in enumerate(texts):
            if len(text) > settings.max_document_chars:
                raise field_error(
                    f"documents[{index}].text",
                    f"{len(text):,} characters; the limit is {settings.max_document_chars:,}",
                    "string_too_long",
                )

    @app.post("/v1/entities", responses=PROBLEM_RESPONSES)
    def entities(body: EntitiesIn) -> EntitiesOut:
        loaded = ready_pipelines()
        check_batch([document.text for document in body.documents])
        return EntitiesOut(pipeline=loaded.info, documents=extract(loaded, body.documents))

    @app.post("/v1/topics/fit", responses=PROBLEM_RESPONSES)
    def topics_fit(body: FitIn) -> FitOut:
        return fit(ready_pipelines(), store, body)

    @app.post("/v1/topics/infer", responses=PROBLEM_RESPONSES)
    def topics_infer(body: InferIn) -> InferOut:
        loaded = ready_pipelines()
        check_batch([document.text for document in body.documents])
        return infer(loaded, models.get(body.model.bucket, body.model.prefix), body.documents)

    return app
