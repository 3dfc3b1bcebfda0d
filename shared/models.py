"""Shared pieces of the API's input and output models."""

from pydantic import BaseModel, ConfigDict


class InputModel(BaseModel):
    """Request bodies: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page[T](BaseModel):
    """A page of a list. Pass ``next_cursor`` back as ``cursor`` for the next page; null means the end."""

    items: list[T]
    next_cursor: str | None
