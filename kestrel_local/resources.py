"""The template's resources read into the local stack's specs: functions, routes, queues, topics, buckets.

``ResourceReader`` walks the resources of one type (skipping those whose
Condition is false), resolves their properties through the ``Resolver`` and
follows references between them (a route's integration to its function, an
event source mapping's ARN to its queue, a subscription's topic). What it cannot
run locally it leaves out and notes in ``warnings``. Alarms and schedules are
read in ``ops_resources``, secrets in ``template_secrets``.
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any

from kestrel_local.intrinsics import NO_VALUE, Resolver, TemplateError, as_str, get_att_parts, ref_target
from kestrel_local.model import (
    BucketNotificationSpec,
    BucketSpec,
    EventSourceSpec,
    FunctionSpec,
    JwtAuthorizerSpec,
    QueueSpec,
    RouteSpec,
    SubscriptionSpec,
    TopicSpec,
)


def normalized_function_name(key: str) -> str:
    """osls's logical-id stem for a function key: ``file_import`` -> ``FileUnderscoreimport``."""
    name = key.replace("-", "Dash").replace("_", "Underscore")
    return name[:1].upper() + name[1:]


class ResourceReader:
    """The resources of a type with their properties resolved, and the references between them."""

    def __init__(self, resolver: Resolver) -> None:
        self.r = resolver
        self.warnings: list[str] = []

    def of_type(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for logical_id, resource in self.r.resources.items():
            if resource.get("Type") == kind and self.r.included(logical_id):
                yield logical_id, self.r.props(logical_id)

    def value(self, props: Mapping[str, Any], key: str, default: Any = None) -> Any:
        if key not in props:
            return default
        resolved = self.r.resolve(props[key])
        return default if resolved is NO_VALUE else resolved

    # ---------------------------------------------------------------- functions
    def function_key(self, logical_id: str, physical_name: str) -> str:
        if not logical_id.endswith("LambdaFunction"):
            return logical_id
        stem = logical_id.removesuffix("LambdaFunction")
        prefix = f"{self.r.stack_name}-"
        if physical_name.startswith(prefix):
            candidate = physical_name.removeprefix(prefix)
            if normalized_function_name(candidate) == stem:
                return candidate
        inverted = stem.replace("Underscore", "_").replace("Dash", "-")
        for candidate in (inverted[:1].lower() + inverted[1:], inverted):
            if normalized_function_name(candidate) == stem:
                return candidate
        return stem

    def functions(self) -> dict[str, FunctionSpec]:
        functions: dict[str, FunctionSpec] = {}
        for logical_id, props in self.of_type("AWS::Lambda::Function"):
            physical = self.r.physical_name(logical_id)
            variables = self.value(props.get("Environment") or {}, "Variables", {})
            reserved = self.value(props, "ReservedConcurrentExecutions")
            spec = FunctionSpec(
                name=self.function_key(logical_id, physical),
                logical_id=logical_id,
                physical_name=physical,
                handler=self.handler_of(props),
                timeout_seconds=int(self.value(props, "Timeout", 3)),
                memory_mb=int(self.value(props, "MemorySize", 128)),
                environment={name: as_str(v) for name, v in variables.items()},
                reserved_concurrency=None if reserved is None else int(reserved),
                arn=self.r.function_arn(physical),
            )
            if spec.name in functions:
                raise TemplateError(f"two functions map to the key {spec.name}")
            functions[spec.name] = spec
        return functions

    def handler_of(self, props: Mapping[str, Any]) -> str:
        """The Python handler a function runs: its ``Handler``, or a container image's command.

        A container-image function (serp_screenshot) runs the Lambda Python base image, whose runtime interface
        client takes the same ``path/module.function`` from the image's command: locally it runs as a Python
        handler like the others (its image's extra contents, Chromium, are the developer's `make setup`'s).
        """
        if self.value(props, "PackageType", "Zip") != "Image":
            return as_str(self.value(props, "Handler", ""))
        command = self.value(self.value(props, "ImageConfig", {}) or {}, "Command", []) or []
        if not command:
            raise TemplateError("a container-image function without ImageConfig.Command has no handler to run locally")
        return as_str(command[0])

    def function_for(self, raw: Any, functions: Mapping[str, FunctionSpec]) -> str | None:
        """The function key a function reference (GetAtt Arn, Ref, name, ARN, alias ARN) points at."""
        by_logical = {spec.logical_id: key for key, spec in functions.items()}
        parts = get_att_parts(raw)
        if parts and parts[0] in by_logical:
            return by_logical[parts[0]]
        ref = ref_target(raw)
        if ref and ref in by_logical:
            return by_logical[ref]
        resolved = as_str(self.r.resolve(raw))
        for key, spec in functions.items():
            if resolved in (spec.physical_name, spec.arn) or resolved.startswith(spec.arn + ":"):
                return key
        return None

    # ---------------------------------------------------------------- routes
    def routes(self, functions: Mapping[str, FunctionSpec]) -> tuple[RouteSpec, ...]:
        routes: list[RouteSpec] = []
        for logical_id, props in self.of_type("AWS::ApiGatewayV2::Route"):
            route_key = as_str(self.value(props, "RouteKey", ""))
            target = as_str(self.value(props, "Target", ""))
            integration_id = target.removeprefix("integrations/")
            if self.r.type_of(integration_id) != "AWS::ApiGatewayV2::Integration":
                self.warnings.append(f"route {route_key} ({logical_id}) has no Lambda integration; not served")
                continue
            function = self.function_for(self.r.props(integration_id).get("IntegrationUri"), functions)
            if function is None:
                self.warnings.append(f"route {route_key}: integration {integration_id} is not a stack function")
                continue
            if route_key == "$default":
                method, path = "ANY", "$default"
            else:
                method, _, path = route_key.partition(" ")
            routes.append(
                RouteSpec(
                    method=method.upper(),
                    path=path,
                    function=function,
                    authorizer=self.authorizer(route_key, props),
                    scopes=tuple(as_str(s) for s in self.value(props, "AuthorizationScopes", [])),
                )
            )
        return tuple(routes)

    def authorizer(self, route_key: str, props: Mapping[str, Any]) -> JwtAuthorizerSpec | None:
        kind = as_str(self.value(props, "AuthorizationType", "NONE")).upper()
        if kind == "NONE":
            return None
        if kind != "JWT":
            # Serving the route without its authorizer would open it; refuse instead.
            raise TemplateError(f"route {route_key}: authorization type {kind} is not supported locally (only JWT)")
        authorizer_id = as_str(self.value(props, "AuthorizerId", ""))
        if self.r.type_of(authorizer_id) != "AWS::ApiGatewayV2::Authorizer":
            raise TemplateError(f"route {route_key}: authorizer {authorizer_id} is not in the template")
        declaration = self.r.props(authorizer_id)
        jwt = self.value(declaration, "JwtConfiguration", {})
        sources = self.value(declaration, "IdentitySource", ["$request.header.Authorization"])
        return JwtAuthorizerSpec(
            name=as_str(self.value(declaration, "Name", authorizer_id)),
            issuer=as_str(jwt.get("Issuer", "")),
            audience=tuple(as_str(a) for a in jwt.get("Audience", [])),
            identity_source=as_str(sources[0] if isinstance(sources, list) else sources),
        )

    # ---------------------------------------------------------------- queues and event sources
    def queues(self) -> dict[str, QueueSpec]:
        queues: dict[str, QueueSpec] = {}
        passthrough = (
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
            "DeduplicationScope",
            "FifoThroughputLimit",
            "SqsManagedSseEnabled",
        )
        for logical_id, props in self.of_type("AWS::SQS::Queue"):
            name = self.r.physical_name(logical_id)
            attributes = {key: as_str(self.value(props, key)) for key in passthrough if key in props}
            fifo = as_str(self.value(props, "FifoQueue", False)) == "true"
            if fifo:
                attributes["FifoQueue"] = "true"
            if "ContentBasedDeduplication" in props:
                attributes["ContentBasedDeduplication"] = as_str(self.value(props, "ContentBasedDeduplication"))
            # KmsMasterKeyId / KmsDataKeyReusePeriodSeconds are dropped: moto would accept them, but there is
            # no KMS key locally (the stack key resolves to a placeholder) and nothing would decrypt anything.
            dead_letter_queue = None
            if "RedrivePolicy" in props:
                raw = props["RedrivePolicy"]
                policy = self.value(props, "RedrivePolicy")
                if isinstance(policy, str):
                    policy = json.loads(policy)
                target_raw = raw.get("deadLetterTargetArn") if isinstance(raw, dict) else None
                parts = get_att_parts(target_raw)
                if parts and self.r.type_of(parts[0]) == "AWS::SQS::Queue":
                    dead_letter_queue = parts[0]
                else:
                    dead_letter_queue = self.queue_by_arn(as_str(policy["deadLetterTargetArn"]))
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": policy["deadLetterTargetArn"],
                        "maxReceiveCount": int(policy["maxReceiveCount"]),
                    }
                )
            if "RedriveAllowPolicy" in props:
                attributes["RedriveAllowPolicy"] = as_str(self.value(props, "RedriveAllowPolicy"))
            queues[logical_id] = QueueSpec(
                logical_id=logical_id,
                name=name,
                fifo=fifo,
                attributes=attributes,
                dead_letter_queue=dead_letter_queue,
                url=self.r.queue_url(name),
                arn=self.r.queue_arn(name),
            )
        return queues

    def queue_by_arn(self, arn: str) -> str | None:
        for logical_id, _ in self.of_type("AWS::SQS::Queue"):
            if self.r.queue_arn(self.r.physical_name(logical_id)) == arn:
                return logical_id
        return None

    def event_sources(self, functions: Mapping[str, FunctionSpec]) -> tuple[EventSourceSpec, ...]:
        sources: list[EventSourceSpec] = []
        for logical_id, props in self.of_type("AWS::Lambda::EventSourceMapping"):
            raw_source = props.get("EventSourceArn")
            parts = get_att_parts(raw_source)
            if parts and self.r.type_of(parts[0]) == "AWS::SQS::Queue":
                queue: str | None = parts[0]
            else:
                queue = self.queue_by_arn(as_str(self.value(props, "EventSourceArn", "")))
            function = self.function_for(props.get("FunctionName"), functions)
            if queue is None or function is None:
                self.warnings.append(f"event source mapping {logical_id}: not an SQS queue of this stack; not run")
                continue
            if self.value(props, "Enabled", True) not in (True, "true", "True"):
                self.warnings.append(f"event source mapping {logical_id} is disabled; not run")
                continue
            if "FilterCriteria" in props:
                self.warnings.append(f"event source mapping {logical_id}: FilterCriteria is not applied locally")
            scaling = self.value(props, "ScalingConfig", {})
            maximum = scaling.get("MaximumConcurrency")
            sources.append(
                EventSourceSpec(
                    function=function,
                    queue=queue,
                    batch_size=int(self.value(props, "BatchSize", 10)),
                    maximum_batching_window_seconds=int(self.value(props, "MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in self.value(props, "FunctionResponseTypes", []),
                    maximum_concurrency=None if maximum is None else int(maximum),
                )
            )
        return tuple(sources)

    # ---------------------------------------------------------------- topics and subscriptions
    def topics(self) -> tuple[dict[str, TopicSpec], list[SubscriptionSpec]]:
        topics: dict[str, TopicSpec] = {}
        inline: list[SubscriptionSpec] = []
        for logical_id, props in self.of_type("AWS::SNS::Topic"):
            name = self.r.physical_name(logical_id)
            attributes: dict[str, str] = {
                key: as_str(self.value(props, key))
                for key in ("DisplayName", "FifoTopic", "ContentBasedDeduplication", "SignatureVersion")
                if key in props
            }
            # KmsMasterKeyId dropped: no KMS locally (see queues).
            topics[logical_id] = TopicSpec(
                logical_id=logical_id, name=name, arn=self.r.topic_arn(name), attributes=attributes
            )
            for subscription in self.value(props, "Subscription", []):
                inline.append(
                    SubscriptionSpec(
                        topic=logical_id,
                        protocol=as_str(subscription["Protocol"]),
                        endpoint=as_str(subscription["Endpoint"]),
                    )
                )
        return topics, inline

    def topic_for(self, raw: Any, topics: Mapping[str, TopicSpec]) -> str | None:
        ref = ref_target(raw)
        if ref in topics:
            return ref
        resolved = as_str(self.r.resolve(raw))
        return next((logical for logical, topic in topics.items() if topic.arn == resolved), None)

    def subscriptions(self, topics: Mapping[str, TopicSpec]) -> list[SubscriptionSpec]:
        subscriptions: list[SubscriptionSpec] = []
        for logical_id, props in self.of_type("AWS::SNS::Subscription"):
            topic = self.topic_for(props.get("TopicArn"), topics)
            if topic is None:
                self.warnings.append(f"subscription {logical_id}: topic is not in this stack; not created")
                continue
            attributes: dict[str, str] = {
                key: as_str(self.value(props, key))
                for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
                if key in props
            }
            subscriptions.append(
                SubscriptionSpec(
                    topic=topic,
                    protocol=as_str(self.value(props, "Protocol")),
                    endpoint=as_str(self.value(props, "Endpoint", "")),
                    attributes=attributes,
                )
            )
        return subscriptions

    # ---------------------------------------------------------------- buckets
    def buckets(self, queues: Mapping[str, QueueSpec]) -> dict[str, BucketSpec]:
        buckets: dict[str, BucketSpec] = {}
        for logical_id, props in self.of_type("AWS::S3::Bucket"):
            configuration = props.get("NotificationConfiguration") or {}
            notifications: list[BucketNotificationSpec] = []
            for raw in configuration.get("QueueConfigurations") or []:
                parts = get_att_parts(raw.get("Queue"))
                queue = (
                    parts[0]
                    if parts and parts[0] in queues
                    else self.queue_by_arn(as_str(self.r.resolve(raw["Queue"])))
                )
                if queue is None:
                    self.warnings.append(f"bucket {logical_id}: notification to a queue outside the stack; ignored")
                    continue
                resolved = self.r.resolve(raw)
                rules = {
                    as_str(rule["Name"]).lower(): as_str(rule["Value"])
                    for rule in ((resolved.get("Filter") or {}).get("S3Key") or {}).get("Rules", [])
                }
                notifications.append(
                    BucketNotificationSpec(
                        queue=queue,
                        events=(as_str(resolved["Event"]),),
                        prefix=rules.get("prefix"),
                        suffix=rules.get("suffix"),
                    )
                )
            for kind in ("LambdaConfigurations", "TopicConfigurations", "EventBridgeConfiguration"):
                if configuration.get(kind):
                    self.warnings.append(f"bucket {logical_id}: {kind} are not emulated locally")
            cors = self.value(props.get("CorsConfiguration") or {}, "CorsRules", [])
            buckets[logical_id] = BucketSpec(
                logical_id=logical_id,
                name=self.r.physical_name(logical_id),
                notifications=tuple(notifications),
                cors_rules=tuple(_cors_rule(rule) for rule in cors),
            )
        return buckets


def _cors_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation CorsRule in the S3 API's PutBucketCors shape."""
    renamed = {"Id": "ID", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    converted = {renamed.get(key, key): value for key, value in rule.items()}
    if "MaxAgeSeconds" in converted:
        converted["MaxAgeSeconds"] = int(converted["MaxAgeSeconds"])
    return converted
