"""The local stack's one source of truth: the CloudFormation template ``sls package --stage local`` produces.

``load_stack`` reads that template and resolves its intrinsics (``Ref``,
``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``, ``Fn::Select``, ``Fn::Split``,
``Fn::GetAZs``, ``Fn::If`` and Conditions, ``Fn::FindInMap``, pseudo
parameters) to *local* values: a queue's Ref is its queue URL in the emulator,
a topic's its ARN, a bucket's its name, a secret's its partial ARN (the name
without Secrets Manager's random suffix, which GetSecretValue accepts and which
stays the same across emulator restarts). What the local stack does not emulate
(RDS Proxy, KMS, the VPC, IAM) resolves to ``local:unavailable:<Logical>[.<Attr>]``.

``package_local_template`` runs ``npx sls package --stage local`` and caches the
template by a hash of its inputs, so only a change to serverless.yml, infra/,
package-lock.json or the params packages again.
"""

import base64
import hashlib
import json
import os
import re
import secrets
import string
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from kestrel_local.model import (
    AlarmSpec,
    BucketNotificationSpec,
    BucketSpec,
    EventSourceSpec,
    FunctionSpec,
    JwtAuthorizerSpec,
    QueueSpec,
    RouteSpec,
    ScheduleSpec,
    SecretSpec,
    StackSpec,
    SubscriptionSpec,
    TopicSpec,
)
from kestrel_local.sls import package_lock, run_sls

UNAVAILABLE = "local:unavailable:"
TEMPLATE_FILE = "cloudformation-template-update-stack.json"

# Secrets Manager's punctuation set for GenerateSecretString / GetRandomPassword.
_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_TREAT_MISSING = ("breaching", "notBreaching", "ignore", "missing")


class TemplateError(ValueError):
    """The template uses something the local stack cannot resolve or run faithfully."""


class _NoValue:
    """``AWS::NoValue``: removes the property (or list element) it is the value of."""


NO_VALUE = _NoValue()


def normalized_function_name(key: str) -> str:
    """osls's logical-id stem for a function key: ``file_import`` -> ``FileUnderscoreimport``."""
    name = key.replace("-", "Dash").replace("_", "Underscore")
    return name[:1].upper() + name[1:]


def default_queue_url(endpoint_url: str | None, account_id: str, region: str) -> Callable[[str], str]:
    """moto's (and LocalStack's path-style) queue URL shape: ``{endpoint}/{account}/{name}``."""
    endpoint = (endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or f"https://sqs.{region}.amazonaws.com").rstrip("/")
    return lambda name: f"{endpoint}/{account_id}/{name}"


def _as_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _get_att_parts(value: Any) -> tuple[str, str] | None:
    """The (logical id, attribute) of a raw ``Fn::GetAtt``, in list or ``"A.B"`` form."""
    if not isinstance(value, dict) or len(value) != 1 or "Fn::GetAtt" not in value:
        return None
    target = value["Fn::GetAtt"]
    if isinstance(target, str):
        logical, _, attribute = target.partition(".")
        return logical, attribute
    if isinstance(target, list) and len(target) == 2 and all(isinstance(p, str) for p in target):
        return target[0], target[1]
    return None


def _ref_target(value: Any) -> str | None:
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        ref: str = value["Ref"]
        return ref
    return None


class _Resolver:
    def __init__(
        self,
        template: Mapping[str, Any],
        *,
        region: str,
        account_id: str,
        stack_name: str,
        queue_url: Callable[[str], str],
        parameters: Mapping[str, str],
    ) -> None:
        self.template = template
        self.region = region
        self.account_id = account_id
        self.stack_name = stack_name
        self.queue_url = queue_url
        self.resources: dict[str, dict[str, Any]] = dict(template.get("Resources") or {})
        self.parameters = self._parameters(parameters)
        self._conditions: dict[str, bool] = {}
        self._names: dict[str, str] = {}
        self._naming: set[str] = set()

    def _parameters(self, given: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, declaration in (self.template.get("Parameters") or {}).items():
            if name in given:
                values[name] = given[name]
            elif "Default" in declaration:
                values[name] = declaration["Default"]
            else:
                raise TemplateError(f"template parameter {name} has no Default and no value was given")
            if str(declaration.get("Type", "")).startswith("CommaDelimitedList") and isinstance(values[name], str):
                values[name] = values[name].split(",")
        return values

    # ---------------------------------------------------------------- conditions
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            declaration = (self.template.get("Conditions") or {}).get(name)
            if declaration is None:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = self._evaluate_condition(declaration)
        return self._conditions[name]

    def _evaluate_condition(self, value: Any) -> bool:
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Condition":
                return self.condition(argument)
            if function == "Fn::Equals":
                left, right = (self.resolve(item) for item in argument)
                return _as_str(left) == _as_str(right)
            if function == "Fn::And":
                return all(self._evaluate_condition(item) for item in argument)
            if function == "Fn::Or":
                return any(self._evaluate_condition(item) for item in argument)
            if function == "Fn::Not":
                return not self._evaluate_condition(argument[0])
        if isinstance(value, bool):
            return value
        raise TemplateError(f"unsupported condition {value!r}")

    def included(self, logical_id: str) -> bool:
        name = self.resources[logical_id].get("Condition")
        return name is None or self.condition(name)

    # ---------------------------------------------------------------- physical names
    def type_of(self, logical_id: str) -> str:
        resource = self.resources.get(logical_id)
        return str(resource.get("Type", "")) if resource else ""

    def props(self, logical_id: str) -> dict[str, Any]:
        props: dict[str, Any] = self.resources[logical_id].get("Properties") or {}
        return props

    def physical_name(self, logical_id: str) -> str:
        """The resource's name: its name property resolved, or a stable local stand-in for a generated one."""
        if logical_id in self._names:
            return self._names[logical_id]
        if logical_id in self._naming:
            raise TemplateError(f"circular reference while naming {logical_id}")
        self._naming.add(logical_id)
        try:
            name = self._physical_name(logical_id)
        finally:
            self._naming.discard(logical_id)
        self._names[logical_id] = name
        return name

    def _physical_name(self, logical_id: str) -> str:
        kind = self.type_of(logical_id)
        props = self.props(logical_id)
        generated = f"{self.stack_name}-{logical_id}"

        def prop(key: str) -> str | None:
            value = self.resolve(props[key]) if key in props else None
            return None if value is None or value is NO_VALUE else _as_str(value)

        if kind == "AWS::SQS::Queue":
            fifo = _as_str(self.resolve(props.get("FifoQueue", False))) == "true"
            return prop("QueueName") or generated + (".fifo" if fifo else "")
        if kind == "AWS::SNS::Topic":
            fifo = _as_str(self.resolve(props.get("FifoTopic", False))) == "true"
            return prop("TopicName") or generated + (".fifo" if fifo else "")
        if kind == "AWS::S3::Bucket":
            return prop("BucketName") or re.sub(r"[^a-z0-9.-]", "-", generated.lower())[:63]
        if kind == "AWS::SecretsManager::Secret":
            return prop("Name") or generated
        if kind == "AWS::Lambda::Function":
            return prop("FunctionName") or generated
        if kind == "AWS::Events::Rule" or kind == "AWS::Scheduler::Schedule":
            return prop("Name") or generated
        if kind == "AWS::CloudWatch::Alarm":
            return prop("AlarmName") or generated
        return generated

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"

    def topic_arn(self, name: str) -> str:
        return f"arn:aws:sns:{self.region}:{self.account_id}:{name}"

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def secret_arn(self, name: str) -> str:
        return f"arn:aws:secretsmanager:{self.region}:{self.account_id}:secret:{name}"

    def rule_arn(self, name: str) -> str:
        return f"arn:aws:events:{self.region}:{self.account_id}:rule/{name}"

    # ---------------------------------------------------------------- Ref / GetAtt
    def ref(self, name: str) -> Any:
        pseudo: dict[str, Any] = {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name not in self.resources:
            raise TemplateError(f"Ref to unknown resource or parameter {name}")
        kind = self.type_of(name)
        if kind == "AWS::SQS::Queue":
            return self.queue_url(self.physical_name(name))
        if kind == "AWS::SNS::Topic":
            return self.topic_arn(self.physical_name(name))
        if kind == "AWS::SecretsManager::Secret":
            return self.secret_arn(self.physical_name(name))
        if kind in ("AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::Events::Rule", "AWS::CloudWatch::Alarm"):
            return self.physical_name(name)
        if kind.startswith("AWS::ApiGatewayV2::"):
            return name  # integration / authorizer ids: the routes are read structurally by logical id
        return f"{UNAVAILABLE}{name}"

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in self.resources:
            raise TemplateError(f"Fn::GetAtt of unknown resource {logical_id}")
        kind = self.type_of(logical_id)
        if kind == "AWS::SQS::Queue":
            name = self.physical_name(logical_id)
            values = {"Arn": self.queue_arn(name), "QueueName": name, "QueueUrl": self.queue_url(name)}
            if attribute in values:
                return values[attribute]
        elif kind == "AWS::SNS::Topic":
            name = self.physical_name(logical_id)
            if attribute in ("TopicArn", "TopicName"):
                return self.topic_arn(name) if attribute == "TopicArn" else name
        elif kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{self.physical_name(logical_id)}"
        elif kind == "AWS::Lambda::Function" and attribute == "Arn":
            return self.function_arn(self.physical_name(logical_id))
        elif kind == "AWS::SecretsManager::Secret" and attribute == "Id":
            return self.secret_arn(self.physical_name(logical_id))
        elif kind == "AWS::Events::Rule" and attribute == "Arn":
            return self.rule_arn(self.physical_name(logical_id))
        return f"{UNAVAILABLE}{logical_id}.{attribute}"

    # ---------------------------------------------------------------- intrinsics
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Condition" and isinstance(argument, str):
                return self.condition(argument)
            if key.startswith("Fn::"):
                return self._function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _function(self, name: str, argument: Any) -> Any:
        if name == "Fn::GetAtt":
            parts = _get_att_parts({name: argument})
            if parts is None:
                raise TemplateError(f"malformed Fn::GetAtt {argument!r}")
            return self.get_att(*parts)
        if name == "Fn::Join":
            delimiter, items = argument
            resolved = self.resolve(items)
            return _as_str(self.resolve(delimiter)).join(_as_str(item) for item in resolved)
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Fn::Split":
            delimiter, source = argument
            return _as_str(self.resolve(source)).split(_as_str(self.resolve(delimiter)))
        if name == "Fn::GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        if name == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
            return self._evaluate_condition({name: argument})
        if name == "Fn::FindInMap":
            mapping, top, second = (self.resolve(item) for item in argument[:3])
            return (self.template.get("Mappings") or {})[mapping][_as_str(top)][_as_str(second)]
        if name == "Fn::Base64":
            return base64.b64encode(_as_str(self.resolve(argument)).encode()).decode()
        if name == "Fn::ToJsonString":
            return json.dumps(self.resolve(argument), separators=(",", ":"))
        if name == "Fn::Length":
            return len(self.resolve(argument))
        if name == "Fn::ImportValue":
            return f"{UNAVAILABLE}ImportValue.{_as_str(self.resolve(argument))}"
        return f"{UNAVAILABLE}{name}"

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], {k: self.resolve(v) for k, v in (argument[1] or {}).items()}
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            if expression.startswith("!"):
                return "${" + expression[1:] + "}"
            if expression in variables:
                return _as_str(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical, _, attribute = expression.partition(".")
                return _as_str(self.get_att(logical, attribute))
            return _as_str(self.ref(expression))

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def _stack_name(template: Mapping[str, Any], stage: str) -> str:
    """osls names the stack ``<service>-<stage>``; its outputs' export names carry it."""
    for output in (template.get("Outputs") or {}).values():
        export = (output.get("Export") or {}).get("Name") if isinstance(output, dict) else None
        if isinstance(export, str):
            match = re.fullmatch(r"sls-(.+)-ServerlessDeploymentBucketName", export)
            if match:
                return match.group(1)
    return f"kestrel-{stage}"


class _Loader:
    def __init__(self, resolver: _Resolver, secrets_dir: Path | None) -> None:
        self.r = resolver
        self.secrets_dir = secrets_dir
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
                handler=_as_str(self.value(props, "Handler", "")),
                timeout_seconds=int(self.value(props, "Timeout", 3)),
                memory_mb=int(self.value(props, "MemorySize", 128)),
                environment={name: _as_str(v) for name, v in variables.items()},
                reserved_concurrency=None if reserved is None else int(reserved),
                arn=self.r.function_arn(physical),
            )
            if spec.name in functions:
                raise TemplateError(f"two functions map to the key {spec.name}")
            functions[spec.name] = spec
        return functions

    def function_for(self, raw: Any, functions: Mapping[str, FunctionSpec]) -> str | None:
        """The function key a function reference (GetAtt Arn, Ref, name, ARN, alias ARN) points at."""
        by_logical = {spec.logical_id: key for key, spec in functions.items()}
        parts = _get_att_parts(raw)
        if parts and parts[0] in by_logical:
            return by_logical[parts[0]]
        ref = _ref_target(raw)
        if ref and ref in by_logical:
            return by_logical[ref]
        resolved = _as_str(self.r.resolve(raw))
        for key, spec in functions.items():
            if resolved in (spec.physical_name, spec.arn) or resolved.startswith(spec.arn + ":"):
                return key
        return None

    # ---------------------------------------------------------------- routes
    def routes(self, functions: Mapping[str, FunctionSpec]) -> tuple[RouteSpec, ...]:
        routes: list[RouteSpec] = []
        for logical_id, props in self.of_type("AWS::ApiGatewayV2::Route"):
            route_key = _as_str(self.value(props, "RouteKey", ""))
            target = _as_str(self.value(props, "Target", ""))
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
                    scopes=tuple(_as_str(s) for s in self.value(props, "AuthorizationScopes", [])),
                )
            )
        return tuple(routes)

    def authorizer(self, route_key: str, props: Mapping[str, Any]) -> JwtAuthorizerSpec | None:
        kind = _as_str(self.value(props, "AuthorizationType", "NONE")).upper()
        if kind == "NONE":
            return None
        if kind != "JWT":
            # Serving the route without its authorizer would open it; refuse instead.
            raise TemplateError(f"route {route_key}: authorization type {kind} is not supported locally (only JWT)")
        authorizer_id = _as_str(self.value(props, "AuthorizerId", ""))
        if self.r.type_of(authorizer_id) != "AWS::ApiGatewayV2::Authorizer":
            raise TemplateError(f"route {route_key}: authorizer {authorizer_id} is not in the template")
        declaration = self.r.props(authorizer_id)
        jwt = self.value(declaration, "JwtConfiguration", {})
        sources = self.value(declaration, "IdentitySource", ["$request.header.Authorization"])
        return JwtAuthorizerSpec(
            name=_as_str(self.value(declaration, "Name", authorizer_id)),
            issuer=_as_str(jwt.get("Issuer", "")),
            audience=tuple(_as_str(a) for a in jwt.get("Audience", [])),
            identity_source=_as_str(sources[0] if isinstance(sources, list) else sources),
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
            attributes = {key: _as_str(self.value(props, key)) for key in passthrough if key in props}
            fifo = _as_str(self.value(props, "FifoQueue", False)) == "true"
            if fifo:
                attributes["FifoQueue"] = "true"
            if "ContentBasedDeduplication" in props:
                attributes["ContentBasedDeduplication"] = _as_str(self.value(props, "ContentBasedDeduplication"))
            # KmsMasterKeyId / KmsDataKeyReusePeriodSeconds are dropped: moto would accept them, but there is
            # no KMS key locally (the stack key resolves to a placeholder) and nothing would decrypt anything.
            dead_letter_queue = None
            if "RedrivePolicy" in props:
                raw = props["RedrivePolicy"]
                policy = self.value(props, "RedrivePolicy")
                if isinstance(policy, str):
                    policy = json.loads(policy)
                target_raw = raw.get("deadLetterTargetArn") if isinstance(raw, dict) else None
                parts = _get_att_parts(target_raw)
                if parts and self.r.type_of(parts[0]) == "AWS::SQS::Queue":
                    dead_letter_queue = parts[0]
                else:
                    dead_letter_queue = self.queue_by_arn(_as_str(policy["deadLetterTargetArn"]))
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": policy["deadLetterTargetArn"],
                        "maxReceiveCount": int(policy["maxReceiveCount"]),
                    }
                )
            if "RedriveAllowPolicy" in props:
                attributes["RedriveAllowPolicy"] = _as_str(self.value(props, "RedriveAllowPolicy"))
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
            parts = _get_att_parts(raw_source)
            if parts and self.r.type_of(parts[0]) == "AWS::SQS::Queue":
                queue: str | None = parts[0]
            else:
                queue = self.queue_by_arn(_as_str(self.value(props, "EventSourceArn", "")))
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
                key: _as_str(self.value(props, key))
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
                        protocol=_as_str(subscription["Protocol"]),
                        endpoint=_as_str(subscription["Endpoint"]),
                    )
                )
        return topics, inline

    def topic_for(self, raw: Any, topics: Mapping[str, TopicSpec]) -> str | None:
        ref = _ref_target(raw)
        if ref in topics:
            return ref
        resolved = _as_str(self.r.resolve(raw))
        return next((logical for logical, topic in topics.items() if topic.arn == resolved), None)

    def subscriptions(self, topics: Mapping[str, TopicSpec]) -> list[SubscriptionSpec]:
        subscriptions: list[SubscriptionSpec] = []
        for logical_id, props in self.of_type("AWS::SNS::Subscription"):
            topic = self.topic_for(props.get("TopicArn"), topics)
            if topic is None:
                self.warnings.append(f"subscription {logical_id}: topic is not in this stack; not created")
                continue
            attributes: dict[str, str] = {
                key: _as_str(self.value(props, key))
                for key in ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy")
                if key in props
            }
            subscriptions.append(
                SubscriptionSpec(
                    topic=topic,
                    protocol=_as_str(self.value(props, "Protocol")),
                    endpoint=_as_str(self.value(props, "Endpoint", "")),
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
                parts = _get_att_parts(raw.get("Queue"))
                queue = (
                    parts[0]
                    if parts and parts[0] in queues
                    else self.queue_by_arn(_as_str(self.r.resolve(raw["Queue"])))
                )
                if queue is None:
                    self.warnings.append(f"bucket {logical_id}: notification to a queue outside the stack; ignored")
                    continue
                resolved = self.r.resolve(raw)
                rules = {
                    _as_str(rule["Name"]).lower(): _as_str(rule["Value"])
                    for rule in ((resolved.get("Filter") or {}).get("S3Key") or {}).get("Rules", [])
                }
                notifications.append(
                    BucketNotificationSpec(
                        queue=queue,
                        events=(_as_str(resolved["Event"]),),
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

    # ---------------------------------------------------------------- secrets
    def secrets(self) -> dict[str, SecretSpec]:
        found: dict[str, SecretSpec] = {}
        for logical_id, props in self.of_type("AWS::SecretsManager::Secret"):
            name = self.r.physical_name(logical_id)
            if "SecretString" in props:
                value = _as_str(self.value(props, "SecretString"))
            elif "GenerateSecretString" in props:
                value = self.generated_secret(name, self.value(props, "GenerateSecretString"))
            else:
                value = self.generated_secret(name, {})  # CloudFormation generates a 32-character password
            found[logical_id] = SecretSpec(
                logical_id=logical_id,
                name=name,
                secret_string=value,
                arn=self.r.secret_arn(name),
                description=_as_str(self.value(props, "Description", "")),
            )
        return found

    def generated_secret(self, name: str, options: Mapping[str, Any]) -> str:
        """Generate once; kept in ``secrets_dir/<name>.json`` while the generation options stay the same."""
        fingerprint = hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()
        path = None
        if self.secrets_dir is not None:
            if ".." in Path(name).parts or name.startswith("/"):
                raise TemplateError(f"secret name {name!r} cannot be stored under the secrets directory")
            path = self.secrets_dir / f"{name}.json"
            if path.exists():
                stored = json.loads(path.read_text())
                if stored.get("options_sha256") == fingerprint:
                    return str(stored["secret_string"])
        value = generate_secret_string(options)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps({"name": name, "options_sha256": fingerprint, "secret_string": value}))
            temporary.chmod(0o600)
            temporary.replace(path)
        return value

    # ---------------------------------------------------------------- alarms
    def alarms(self, functions: Mapping[str, FunctionSpec], topics: Mapping[str, TopicSpec]) -> tuple[AlarmSpec, ...]:
        alarms: list[AlarmSpec] = []
        for logical_id, props in self.of_type("AWS::CloudWatch::Alarm"):
            if "Metrics" in props or "MetricName" not in props:
                self.warnings.append(f"alarm {logical_id}: metric math alarms are not evaluated locally")
                continue
            evaluation_periods = int(self.value(props, "EvaluationPeriods", 1))
            treat = _as_str(self.value(props, "TreatMissingData", "missing"))
            if treat not in _TREAT_MISSING:
                raise TemplateError(f"alarm {logical_id}: TreatMissingData {treat!r}")

            def actions(key: str, props: Mapping[str, Any] = props) -> tuple[str, ...]:
                return tuple(
                    self.topic_for(raw, topics) or _as_str(self.r.resolve(raw)) for raw in props.get(key) or []
                )

            alarms.append(
                AlarmSpec(
                    name=self.r.physical_name(logical_id),
                    namespace=_as_str(self.value(props, "Namespace")),
                    metric=_as_str(self.value(props, "MetricName")),
                    dimensions={_as_str(d["Name"]): _as_str(d["Value"]) for d in self.value(props, "Dimensions", [])},
                    statistic=_as_str(self.value(props, "Statistic") or self.value(props, "ExtendedStatistic")),
                    period_seconds=int(self.value(props, "Period", 60)),
                    evaluation_periods=evaluation_periods,
                    datapoints_to_alarm=int(self.value(props, "DatapointsToAlarm", evaluation_periods)),
                    threshold=float(self.value(props, "Threshold", 0)),
                    comparison=_as_str(self.value(props, "ComparisonOperator")),
                    treat_missing_data=treat,  # type: ignore[arg-type]
                    alarm_actions=actions("AlarmActions"),
                    ok_actions=actions("OKActions"),
                    description=_as_str(self.value(props, "AlarmDescription", "")),
                    insufficient_data_actions=actions("InsufficientDataActions"),
                    actions_enabled=_as_str(self.value(props, "ActionsEnabled", True)) == "true",
                    unit=None if "Unit" not in props else _as_str(self.value(props, "Unit")),
                    logical_id=logical_id,
                )
            )
        return tuple(alarms)

    # ---------------------------------------------------------------- schedules
    def schedules(
        self, functions: Mapping[str, FunctionSpec], queues: Mapping[str, QueueSpec]
    ) -> tuple[ScheduleSpec, ...]:
        schedules: list[ScheduleSpec] = []
        for logical_id, props in self.of_type("AWS::Events::Rule"):
            if "ScheduleExpression" not in props:
                self.warnings.append(f"rule {logical_id}: event-pattern rules are not emulated locally")
                continue
            name = self.r.physical_name(logical_id)
            enabled = _as_str(self.value(props, "State", "ENABLED")) == "ENABLED"
            for target in props.get("Targets") or []:
                spec = self.schedule_target(logical_id, name, props, target, enabled, functions, queues, "UTC")
                if spec is not None:
                    schedules.append(spec)
        for logical_id, props in self.of_type("AWS::Scheduler::Schedule"):
            name = self.r.physical_name(logical_id)
            enabled = _as_str(self.value(props, "State", "ENABLED")) == "ENABLED"
            timezone = _as_str(self.value(props, "ScheduleExpressionTimezone", "UTC"))
            spec = self.schedule_target(
                logical_id, name, props, props.get("Target") or {}, enabled, functions, queues, timezone
            )
            if spec is not None:
                schedules.append(spec)
        return tuple(schedules)

    def schedule_target(
        self,
        logical_id: str,
        name: str,
        props: Mapping[str, Any],
        target: Mapping[str, Any],
        enabled: bool,
        functions: Mapping[str, FunctionSpec],
        queues: Mapping[str, QueueSpec],
        timezone: str,
    ) -> ScheduleSpec | None:
        raw_arn = target.get("Arn")
        parts = _get_att_parts(raw_arn)
        queue = parts[0] if parts and parts[0] in queues else self.queue_by_arn(_as_str(self.r.resolve(raw_arn)))
        function = None if queue else self.function_for(raw_arn, functions)
        if queue is None and function is None:
            self.warnings.append(f"schedule {logical_id}: target {target.get('Id', '')} is not a queue or function")
            return None
        for unsupported in ("InputPath", "InputTransformer"):
            if unsupported in target:
                self.warnings.append(f"schedule {logical_id}: {unsupported} is not applied locally")
        given_input = self.value(target, "Input")
        sqs_parameters = self.value(target, "SqsParameters", {})
        return ScheduleSpec(
            name=name,
            expression=_as_str(self.value(props, "ScheduleExpression")),
            enabled=enabled,
            target_queue=queue,
            target_function=function,
            input=None if given_input is None else _as_str(given_input),
            arn=self.r.rule_arn(name),
            target_id=_as_str(self.value(target, "Id", "")),
            message_group_id=sqs_parameters.get("MessageGroupId"),
            timezone=timezone,
        )


def _cors_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation CorsRule in the S3 API's PutBucketCors shape."""
    renamed = {"Id": "ID", "ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
    converted = {renamed.get(key, key): value for key, value in rule.items()}
    if "MaxAgeSeconds" in converted:
        converted["MaxAgeSeconds"] = int(converted["MaxAgeSeconds"])
    return converted


def generate_secret_string(options: Mapping[str, Any]) -> str:
    """Secrets Manager's GenerateSecretString, locally (same options, same character classes)."""

    def flag(key: str, default: bool = False) -> bool:
        return _as_str(options.get(key, default)) == "true"

    length = int(options.get("PasswordLength", 32))
    excluded = set(_as_str(options.get("ExcludeCharacters", "")))
    classes = [
        "" if flag("ExcludeLowercase") else string.ascii_lowercase,
        "" if flag("ExcludeUppercase") else string.ascii_uppercase,
        "" if flag("ExcludeNumbers") else string.digits,
        "" if flag("ExcludePunctuation") else _PUNCTUATION,
        " " if flag("IncludeSpace") else "",
    ]
    classes = [chars for chars in ("".join(c for c in group if c not in excluded) for group in classes) if chars]
    if not classes:
        raise TemplateError("GenerateSecretString excludes every character")
    alphabet = "".join(classes)
    required = flag("RequireEachIncludedType", True)
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(length))
        if not required or length < len(classes) or all(any(c in group for c in password) for group in classes):
            break
    template = options.get("SecretStringTemplate")
    key = options.get("GenerateStringKey")
    if template is None or key is None:
        return password
    document = json.loads(_as_str(template))
    document[_as_str(key)] = password
    return json.dumps(document)


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
    resolver = _Resolver(
        template,
        region=region,
        account_id=account_id,
        stack_name=name,
        queue_url=queue_url or default_queue_url(endpoint_url, account_id, region),
        parameters=parameters or {},
    )
    loader = _Loader(resolver, secrets_dir)
    functions = loader.functions()
    queues = loader.queues()
    topics, inline_subscriptions = loader.topics()
    return StackSpec(
        stage=stage,
        region=region,
        account_id=account_id,
        functions=functions,
        routes=loader.routes(functions),
        queues=queues,
        event_sources=loader.event_sources(functions),
        topics=topics,
        subscriptions=tuple(inline_subscriptions + loader.subscriptions(topics)),
        buckets=loader.buckets(queues),
        secrets=loader.secrets(),
        alarms=loader.alarms(functions, topics),
        schedules=loader.schedules(functions, queues),
        stack_name=name,
        warnings=tuple(loader.warnings),
    )


# ---------------------------------------------------------------------------- packaging
def _template_inputs(project_root: Path) -> list[Path]:
    files = [project_root / "serverless.yml", project_root / "package-lock.json"]
    infra = project_root / "infra"
    if infra.is_dir():
        files += sorted(path for path in infra.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    return files


def template_cache_key(project_root: Path, params: Mapping[str, str]) -> str:
    """A hash of everything the packaged local template depends on."""
    digest = hashlib.sha256(b"kestrel-local-template-v1\0")
    for path in _template_inputs(project_root):
        digest.update(str(path.relative_to(project_root)).encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"<missing>")
        digest.update(b"\0")
    digest.update(json.dumps(dict(sorted(params.items()))).encode())
    return digest.hexdigest()[:32]


def package_local_template(project_root: Path, *, params: Mapping[str, str], cache_dir: Path) -> dict[str, Any]:
    """The local stage's CloudFormation template, packaged by osls once per change of its inputs."""
    key = template_cache_key(project_root, params)
    cached = cache_dir / f"template-{key}.json"
    if cached.exists():
        template: dict[str, Any] = json.loads(cached.read_text())
        return template
    package_dir = cache_dir / "package"
    arguments = ["package", "--stage", "local", "--package", str(package_dir)]
    arguments += [f"--param={name}={value}" for name, value in sorted(params.items())]
    with package_lock(project_root):
        result = run_sls(*arguments, cwd=project_root)
    if result.returncode != 0:
        raise RuntimeError(
            f"sls package --stage local failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    template = json.loads((package_dir / TEMPLATE_FILE).read_text())
    cache_dir.mkdir(parents=True, exist_ok=True)
    for stale in cache_dir.glob("template-*.json"):
        stale.unlink()
    temporary = cached.with_suffix(".tmp")
    temporary.write_text(json.dumps(template))
    temporary.replace(cached)
    return template
