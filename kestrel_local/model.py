"""What the local stack runs, as read from the CloudFormation template `sls package --stage local` produces.

``kestrel_local.template.load_stack`` builds a ``StackSpec`` from the template;
everything else (provisioning in the emulator, the HTTP gateway, the queue
runners, schedules, alarms) works from these specs, never from a list of its own.
"""

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # the serverless function key, e.g. "api_projects"
    logical_id: str  # e.g. "ApiUnderscoreprojectsLambdaFunction"
    physical_name: str  # FunctionName, e.g. "kestrel-local-api_projects"
    handler: str  # "functions/api_projects/handler.handler"
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]  # resolved against the local resources
    reserved_concurrency: int | None
    arn: str = ""  # arn:aws:lambda:<region>:<account>:function:<physical_name>


@dataclass(frozen=True)
class JwtAuthorizerSpec:
    name: str
    issuer: str
    audience: tuple[str, ...]
    identity_source: str = "$request.header.Authorization"


@dataclass(frozen=True)
class RouteSpec:
    method: str  # "GET", or "ANY"
    path: str  # "/v1/projects/{project_id}"
    function: str  # FunctionSpec.name
    authorizer: JwtAuthorizerSpec | None
    scopes: tuple[str, ...]

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    fifo: bool
    attributes: dict[str, str]  # CreateQueue attributes, RedrivePolicy pointing at the local DLQ ARN
    dead_letter_queue: str | None  # logical id of its DLQ
    url: str = ""  # the local queue URL the template's Ref resolved to (provision checks the emulator agrees)
    arn: str = ""  # arn:aws:sqs:<region>:<account>:<name>


@dataclass(frozen=True)
class EventSourceSpec:
    function: str  # FunctionSpec.name
    queue: str  # QueueSpec.logical_id
    batch_size: int
    maximum_batching_window_seconds: int
    report_batch_item_failures: bool
    maximum_concurrency: int | None


@dataclass(frozen=True)
class TopicSpec:
    logical_id: str
    name: str
    arn: str = ""
    attributes: dict[str, str] = field(default_factory=dict)  # CreateTopic attributes (DisplayName, FifoTopic...)


@dataclass(frozen=True)
class SubscriptionSpec:
    topic: str  # TopicSpec.logical_id
    protocol: str  # "email", "sqs", ...
    endpoint: str
    attributes: dict[str, str] = field(default_factory=dict)  # RawMessageDelivery, FilterPolicy...


@dataclass(frozen=True)
class BucketNotificationSpec:
    queue: str  # QueueSpec.logical_id
    events: tuple[str, ...]
    prefix: str | None
    suffix: str | None


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    name: str
    notifications: tuple[BucketNotificationSpec, ...]
    cors_rules: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    name: str
    secret_string: str  # generated locally once from GenerateSecretString, or SecretString
    arn: str = ""  # the partial ARN (no random suffix) a Ref resolves to; GetSecretValue accepts it
    description: str = ""


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    namespace: str  # "AWS/SQS", "AWS/Lambda"
    metric: str  # "ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "Errors", "Throttles"
    dimensions: dict[str, str]  # {"QueueName": ...} or {"FunctionName": ...}, resolved to local names
    statistic: str
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str  # "GreaterThanOrEqualToThreshold", ...
    treat_missing_data: Literal["breaching", "notBreaching", "ignore", "missing"]
    alarm_actions: tuple[str, ...]  # topic logical ids
    ok_actions: tuple[str, ...]
    description: str = ""
    insufficient_data_actions: tuple[str, ...] = ()
    actions_enabled: bool = True
    unit: str | None = None
    logical_id: str = ""


@dataclass(frozen=True)
class ScheduleSpec:
    name: str  # the rule's Name (or logical id)
    expression: str  # "cron(0 5 * * ? *)" or "rate(5 minutes)"
    enabled: bool
    target_queue: str | None  # QueueSpec.logical_id for SQS targets
    target_function: str | None  # FunctionSpec.name for Lambda targets
    input: str | None  # the target's Input (JSON text)
    arn: str = ""  # the rule's ARN (the scheduled event's "resources")
    target_id: str = ""
    message_group_id: str | None = None  # SqsParameters.MessageGroupId for FIFO targets
    timezone: str = "UTC"  # AWS::Scheduler::Schedule ScheduleExpressionTimezone


@dataclass(frozen=True)
class StackSpec:
    stage: str
    region: str
    account_id: str
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: tuple[RouteSpec, ...] = ()
    queues: dict[str, QueueSpec] = field(default_factory=dict)
    event_sources: tuple[EventSourceSpec, ...] = ()
    topics: dict[str, TopicSpec] = field(default_factory=dict)
    subscriptions: tuple[SubscriptionSpec, ...] = ()
    buckets: dict[str, BucketSpec] = field(default_factory=dict)
    secrets: dict[str, SecretSpec] = field(default_factory=dict)
    alarms: tuple[AlarmSpec, ...] = ()
    schedules: tuple[ScheduleSpec, ...] = ()
    stack_name: str = ""
    warnings: tuple[str, ...] = ()  # what the template has that the local stack does not emulate


@dataclass(frozen=True)
class InvocationResult:
    function: str
    request_id: str
    ok: bool  # the handler returned
    response: Any  # what it returned (JSON-compatible), when ok
    error_type: str | None = None  # exception class name, "Timeout" or "RuntimeExited"
    error_message: str | None = None
    duration_ms: float = 0.0
    started_at: float = 0.0  # time.time() when the handler started


class Invoker(Protocol):
    """Runs a function's handler in an isolated, warm execution environment."""

    def invoke(self, function: str, event: dict[str, Any]) -> InvocationResult: ...
