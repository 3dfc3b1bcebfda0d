"""CSV export of any report: one row per item, nested rows (a query's pages) exploded into one row each."""

import csv
import io
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from shared.reports.models.base import Report


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [_model_of(arg) for arg in typing.get_args(annotation)]
        return next((model for model in models if model is not None), None)
    return None


def _list_model_of(annotation: Any) -> type[BaseModel] | None:
    if typing.get_origin(annotation) is list:
        return _model_of(typing.get_args(annotation)[0])
    return None


def columns(item_type: type[BaseModel], prefix: str = "") -> list[str]:
    """The CSV columns of an item type: its fields, nested models' fields as ``field.subfield``."""
    names: list[str] = []
    for name, field in item_type.model_fields.items():
        nested = _model_of(field.annotation) or _list_model_of(field.annotation)
        names += columns(nested, f"{prefix}{name}.") if nested else [f"{prefix}{name}"]
    return names


def _flatten(value: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """A dumped item as flat rows: one, or one per element of its (single) list of nested items."""
    base: dict[str, Any] = {}
    exploded: list[dict[str, Any]] = []
    for name, field_value in value.items():
        if isinstance(field_value, dict):
            base |= _flatten(field_value, f"{prefix}{name}.")[0]
        elif isinstance(field_value, list) and field_value and isinstance(field_value[0], dict):
            exploded = [row for element in field_value for row in _flatten(element, f"{prefix}{name}.")]
        else:
            base[f"{prefix}{name}"] = field_value
    return [base | row for row in exploded] if exploded else [base]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(str(element) for element in value)
    return value


def to_csv(items: Sequence[BaseModel], item_type: type[BaseModel]) -> str:
    """Items (a report's, a list's) as CSV with a header row, nested models' fields as ``field.subfield``."""
    header = columns(item_type)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for item in items:
        for row in _flatten(item.model_dump(mode="json")):
            writer.writerow({name: _cell(row.get(name)) for name in header})
    return out.getvalue()


def item_type_of(report: Report[Any]) -> type[BaseModel]:
    """The item model of a report class (``Report[Point]`` or a subclass of it)."""
    for klass in type(report).__mro__:
        metadata = getattr(klass, "__pydantic_generic_metadata__", None)
        if metadata and metadata.get("args"):
            model = _model_of(metadata["args"][0])
            if model is not None:
                return model
    raise TypeError(f"{type(report).__name__} does not name its item type")
