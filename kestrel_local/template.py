"""The local stack's one source of truth: the CloudFormation template ``sls package --stage local`` produces.

``load_stack`` reads that template into a ``StackSpec``: ``intrinsics`` resolves
its values to local ones, ``resources`` reads functions, routes, queues, event
sources, topics and buckets, ``ops_resources`` alarms and schedules, and
``template_secrets`` the secrets. ``packaging`` produces (and caches) the template.
"""

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from kestrel_local.intrinsics import Resolver, default_queue_url
from kestrel_local.model import StackSpec
from kestrel_local.ops_resources import read_alarms, read_schedules
from kestrel_local.resources import ResourceReader
from kestrel_local.template_secrets import read_secrets


def load_stack(
    template: Mapping[str, Any],
    *,
    stage: str,
    region: str,
    account_id: str = "123456789012",
    secrets_dir: Path | None = None,
    endpoint_url: str | None = None,
    queue_url: Callable[[str], str] | None = None,
    stack_name: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> StackSpec:
    """The stack the template describes, resolved to local values.

    A queue's Ref becomes ``queue_url(name)``: by default moto's
    ``{endpoint}/{account}/{name}`` with ``endpoint_url`` (or ``AWS_ENDPOINT_URL``);
    pass ``queue_url`` for an emulator that shapes URLs differently.
    ``provision`` checks that the emulator hands out the same URLs.
    """
    name = stack_name or _stack_name(template, stage)
    resolver = Resolver(
        template,
        region=region,
        account_id=account_id,
        stack_name=name,
        queue_url=queue_url or default_queue_url(endpoint_url, account_id, region),
        parameters=parameters or {},
    )
    reader = ResourceReader(resolver)
    functions = reader.functions()
    queues = reader.queues()
    topics, inline_subscriptions = reader.topics()
    return StackSpec(
        stage=stage,
        region=region,
        account_id=account_id,
        functions=functions,
        routes=reader.routes(functions),
        queues=queues,
        event_sources=reader.event_sources(functions),
        topics=topics,
        subscriptions=tuple(inline_subscriptions + reader.subscriptions(topics)),
        buckets=reader.buckets(queues),
        secrets=read_secrets(reader, secrets_dir),
        alarms=read_alarms(reader, topics),
        schedules=read_schedules(reader, functions, queues),
        stack_name=name,
        warnings=tuple(reader.warnings),
    )


def _stack_name(template: Mapping[str, Any], stage: str) -> str:
    """osls names the stack ``<service>-<stage>``; its outputs' export names carry it."""
    for output in (template.get("Outputs") or {}).values():
        export = (output.get("Export") or {}).get("Name") if isinstance(output, dict) else None
        if isinstance(export, str):
            match = re.fullmatch(r"sls-(.+)-ServerlessDeploymentBucketName", export)
            if match:
                return match.group(1)
    return f"kestrel-{stage}"
