"""The rollup worker's queue messages."""

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, Field


class RollupPropertyMessage(BaseModel):
    """Rebuild the aggregates of a property's pending days (sent by gsc_ingest after a load, and by the sweep)."""

    kind: Literal["property"] = "property"
    tenant_id: str
    property_id: uuid.UUID


class RollupSweepMessage(BaseModel):
    """The nightly EventBridge input: ask for a rollup of every property with pending days (a lost message)."""

    kind: Literal["sweep"]


RollupMessage = Annotated[RollupPropertyMessage | RollupSweepMessage, Field(discriminator="kind")]
