"""api_reports: SEO reports over a property's Search Console data, as JSON or CSV.

One route per report of ``shared.reports.registry.REPORTS``: it parses its
query parameters into the report's pydantic model (Powertools validates them:
422 with the field), runs the report (domain logic, which knows nothing of
HTTP) and shapes the response: JSON, or CSV when asked with
``Accept: text/csv`` or ``?format=csv``. Unknown projects and properties, and
other tenants', answer 404.
"""

import uuid
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from shared.reports.export import item_type_of, to_csv
from shared.reports.models.base import MAX_LIMIT, ReportParams
from shared.reports.registry import REPORTS, ReportSpec
from shared.runtime.http import create_app, current_principal, lambda_handler, requires

READ = "read:projects"
CSV = "text/csv"

app = create_app()


def _wants_csv(params: ReportParams) -> bool:
    if params.format is not None:
        return params.format == "csv"
    accept = app.current_event.headers.get("accept") or ""
    return CSV in accept.lower()


def respond(spec: ReportSpec[Any, Any], project_id: uuid.UUID, property_id: uuid.UUID, params: Any) -> Response[Any]:
    """Run a report for the caller; CSV pages default to the largest page size."""
    as_csv = _wants_csv(params)
    if as_csv and params.limit is None:
        params = params.model_copy(update={"limit": MAX_LIMIT})
    report = spec.run(current_principal(app), project_id, property_id, params)
    if not as_csv:
        return Response(status_code=200, content_type="application/json", body=report)
    coverage = report.coverage
    headers = {
        "Content-Disposition": f'attachment; filename="{report.report}-{coverage.start}-{coverage.end}.csv"',
        "X-Kestrel-Total-Items": str(report.total_items),
        "X-Kestrel-Coverage": f"{coverage.first_date or ''}/{coverage.last_date or ''}",
        "X-Kestrel-Provisional-From": str(coverage.provisional_from or ""),
    }
    if report.next_cursor:
        headers["X-Kestrel-Next-Cursor"] = report.next_cursor
    return Response(
        status_code=200,
        content_type=f"{CSV}; charset=utf-8",
        body=to_csv(report.items, item_type_of(report)),
        headers=headers,
    )


def report_responses(model: Any) -> dict[int, OpenAPIResponse]:
    """The 200 response of a report route: the report as JSON, or as CSV.

    Routes return ``Response[Any]``: Powertools validates a response against the declared return type, and a
    CSV body is text, not the report model. The JSON schema is declared here for the OpenAPI document instead.
    """
    return {
        200: {
            "description": "The report (JSON), or its rows (CSV).",
            "content": {"application/json": {"model": model}, CSV: {"schema": {"type": "string"}}},
        }
    }


def description(spec: ReportSpec[Any, Any]) -> str:
    """The spec's description, and how to have the report as CSV."""
    return (
        f"{spec.description} As CSV with `Accept: text/csv` or `?format=csv` ({spec.csv_rows}; the next page's"
        " cursor in `X-Kestrel-Next-Cursor`)."
    )


def add_route(spec: ReportSpec[Any, Any]) -> None:
    """``GET <spec.path>``: the spec's parameters from the query string, its report as the answer."""

    def get_report(project_id: uuid.UUID, property_id: uuid.UUID, params: Any) -> Response[Any]:
        return respond(spec, project_id, property_id, params)

    # Powertools reads the query parameters' model from the annotation, and names the operation after the function.
    get_report.__annotations__["params"] = Annotated[spec.params, Query()]
    get_report.__name__ = get_report.__qualname__ = "get_" + spec.name.replace("-", "_")
    app.get(
        spec.path.replace("{", "<").replace("}", ">"),  # Powertools writes path parameters <so>
        tags=["reports"],
        summary=spec.summary,
        description=description(spec),
        responses=report_responses(spec.response),
        **requires(READ),
    )(get_report)


for report_spec in REPORTS.values():
    add_route(report_spec)

handler = lambda_handler(app)
