"""CloudFormation intrinsics resolved to *local* values: what a template's references mean in the local stack.

The ``Resolver`` evaluates ``Ref``, ``Fn::GetAtt``, ``Fn::Join``, ``Fn::Sub``,
``Fn::Select``, ``Fn::Split``, ``Fn::GetAZs``, ``Fn::If`` and Conditions,
``Fn::FindInMap`` and the pseudo parameters: a queue's Ref is its queue URL in
the emulator, a topic's its ARN, a bucket's its name, a secret's its partial ARN
(the name without Secrets Manager's random suffix, which GetSecretValue accepts
and which stays the same across emulator restarts). What the local stack does
not emulate (RDS Proxy, KMS, the VPC, IAM) resolves to
``local:unavailable:<Logical>[.<Attr>]``.
"""

import base64
import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

UNAVAILABLE = "local:unavailable:"


class TemplateError(ValueError):
    """The template uses something the local stack cannot resolve or run faithfully."""


class _NoValue:
    """``AWS::NoValue``: removes the property (or list element) it is the value of."""


NO_VALUE = _NoValue()


def default_queue_url(endpoint_url: str | None, account_id: str, region: str) -> Callable[[str], str]:
    """moto's (and LocalStack's path-style) queue URL shape: ``{endpoint}/{account}/{name}``."""
    endpoint = (endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or f"https://sqs.{region}.amazonaws.com").rstrip("/")
    return lambda name: f"{endpoint}/{account_id}/{name}"


def as_str(value: Any) -> str:
    """A resolved value as CloudFormation turns it into a string (booleans lower-case, whole floats as ints)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def get_att_parts(value: Any) -> tuple[str, str] | None:
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


def ref_target(value: Any) -> str | None:
    """The logical id a raw ``Ref`` names, or None when the value is not a plain Ref."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Ref"), str):
        ref: str = value["Ref"]
        return ref
    return None


class Resolver:
    """One template's values: its parameters and conditions, resources' local names and ARNs, and intrinsics."""

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
                return as_str(left) == as_str(right)
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
            return None if value is None or value is NO_VALUE else as_str(value)

        if kind == "AWS::SQS::Queue":
            fifo = as_str(self.resolve(props.get("FifoQueue", False))) == "true"
            return prop("QueueName") or generated + (".fifo" if fifo else "")
        if kind == "AWS::SNS::Topic":
            fifo = as_str(self.resolve(props.get("FifoTopic", False))) == "true"
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
            parts = get_att_parts({name: argument})
            if parts is None:
                raise TemplateError(f"malformed Fn::GetAtt {argument!r}")
            return self.get_att(*parts)
        if name == "Fn::Join":
            delimiter, items = argument
            resolved = self.resolve(items)
            return as_str(self.resolve(delimiter)).join(as_str(item) for item in resolved)
        if name == "Fn::Sub":
            return self._sub(argument)
        if name == "Fn::Select":
            index, items = argument
            return self.resolve(items)[int(self.resolve(index))]
        if name == "Fn::Split":
            delimiter, source = argument
            return as_str(self.resolve(source)).split(as_str(self.resolve(delimiter)))
        if name == "Fn::GetAZs":
            return [f"{self.region}{zone}" for zone in "abc"]
        if name == "Fn::If":
            condition, when_true, when_false = argument
            return self.resolve(when_true if self.condition(condition) else when_false)
        if name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
            return self._evaluate_condition({name: argument})
        if name == "Fn::FindInMap":
            mapping, top, second = (self.resolve(item) for item in argument[:3])
            return (self.template.get("Mappings") or {})[mapping][as_str(top)][as_str(second)]
        if name == "Fn::Base64":
            return base64.b64encode(as_str(self.resolve(argument)).encode()).decode()
        if name == "Fn::ToJsonString":
            return json.dumps(self.resolve(argument), separators=(",", ":"))
        if name == "Fn::Length":
            return len(self.resolve(argument))
        if name == "Fn::ImportValue":
            return f"{UNAVAILABLE}ImportValue.{as_str(self.resolve(argument))}"
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
                return as_str(variables[expression])
            if "." in expression and not expression.startswith("AWS::"):
                logical, _, attribute = expression.partition(".")
                return as_str(self.get_att(logical, attribute))
            return as_str(self.ref(expression))

        return re.sub(r"\$\{([^}]+)\}", replace, text)
