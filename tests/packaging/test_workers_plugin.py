"""infra/kestrel-workers.js on the workers still to come (FIFO, capped concurrency), without packaging."""

import json
import subprocess
from typing import Any

import pytest

from tests.packaging.sls import ROOT

pytestmark = pytest.mark.packaging

# Drives the plugin's hook with a minimal stand-in for the serverless instance.
DRIVER = """
const Plugin = require(process.argv[1]);
const functions = JSON.parse(process.argv[2]);
const resources = {};
const serverless = {
  service: {
    service: 'kestrel',
    provider: { timeout: 29 },
    custom: { kestrelWorkers: { kmsKeyLogicalId: 'StackKey', alarmTopicLogicalId: 'OpsTopic' } },
    resources: { Resources: resources },
    getAllFunctions: () => Object.keys(functions),
    getFunction: (name) => functions[name],
  },
  getProvider: () => ({
    getStage: () => 'prod',
    naming: { getLambdaLogicalId: (name) => `${name}LambdaFunction` },
  }),
  configSchemaHandler: { defineFunctionProperties() {}, defineCustomProperties() {} },
  classes: { Error },
};
const plugin = new Plugin(serverless, {}, {});
plugin.hooks['before:package:initialize']();
console.log(JSON.stringify({ functions, resources }));
"""


def expand(functions: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", "-e", DRIVER, str(ROOT / "infra" / "kestrel-workers.js"), json.dumps(functions)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def expanded(functions: dict[str, Any]) -> dict[str, Any]:
    result = expand(functions)
    assert result.returncode == 0, result.stderr
    output: dict[str, Any] = json.loads(result.stdout)
    return output


def sqs_event(function: dict[str, Any]) -> dict[str, Any]:
    [event] = [e["sqs"] for e in function["events"] if "sqs" in e]
    return event


def test_maximum_concurrency_is_capped_by_reserved_concurrency() -> None:
    out = expanded(
        {
            "gsc_sync": {"timeout": 900, "reservedConcurrency": 10, "worker": {"batchSize": 5, "maxReceiveCount": 3}},
            "rank_check": {
                "timeout": 60,
                "reservedConcurrency": 10,
                "worker": {"batchSize": 10, "maxReceiveCount": 3, "maximumConcurrency": 50},
            },
            "nlp_entities": {
                "timeout": 60,
                "reservedConcurrency": 5,
                "worker": {"batchSize": 10, "maxReceiveCount": 3, "maximumConcurrency": 3},
            },
            "topic_model": {"reservedConcurrency": 1, "worker": {"batchSize": 1, "maxReceiveCount": 5}},
        }
    )
    functions, resources = out["functions"], out["resources"]
    assert sqs_event(functions["gsc_sync"])["maximumConcurrency"] == 10
    assert sqs_event(functions["rank_check"])["maximumConcurrency"] == 10
    assert sqs_event(functions["nlp_entities"])["maximumConcurrency"] == 3
    assert "maximumConcurrency" not in sqs_event(functions["topic_model"])
    assert resources["GscSyncQueue"]["Properties"]["VisibilityTimeout"] == 6 * 900
    # No timeout on the function: the provider's.
    assert resources["TopicModelQueue"]["Properties"]["VisibilityTimeout"] == 6 * 29
    for name in functions:
        event = sqs_event(functions[name])
        assert event["functionResponseType"] == "ReportBatchItemFailures"


def test_a_maximum_concurrency_of_one_stands_only_beside_a_reserved_concurrency_of_one() -> None:
    # rollup on dev: `maximumConcurrency: ${param:rollupConcurrency}` resolves to 1.
    out = expanded(
        {
            "rollup": {
                "reservedConcurrency": 1,
                "worker": {"batchSize": 10, "maxReceiveCount": 5, "maximumConcurrency": 1},
            }
        }
    )
    assert "maximumConcurrency" not in sqs_event(out["functions"]["rollup"])
    result = expand(
        {
            "rollup": {
                "reservedConcurrency": 4,
                "worker": {"batchSize": 10, "maxReceiveCount": 5, "maximumConcurrency": 1},
            }
        }
    )
    assert result.returncode != 0
    assert "below AWS's minimum of 2" in result.stderr


def test_fifo_worker_gets_fifo_queues() -> None:
    out = expanded(
        {
            "content_generate": {
                "timeout": 120,
                "reservedConcurrency": 5,
                "worker": {"batchSize": 1, "maxReceiveCount": 3, "fifo": True},
            }
        }
    )
    queue = out["resources"]["ContentGenerateQueue"]["Properties"]
    dlq = out["resources"]["ContentGenerateDeadLetterQueue"]["Properties"]
    assert queue["QueueName"] == "kestrel-prod-content-generate.fifo"
    assert dlq["QueueName"] == "kestrel-prod-content-generate-dlq.fifo"
    for props in (queue, dlq):
        assert props["FifoQueue"] is True
        assert props["ContentBasedDeduplication"] is True
        assert props["KmsMasterKeyId"] == {"Ref": "StackKey"}
    assert dlq["MessageRetentionPeriod"] == 1209600
    env = out["functions"]["content_generate"]["environment"]
    assert env == {
        "KESTREL_QUEUE_URL": {"Ref": "ContentGenerateQueue"},
        "KESTREL_DLQ_URL": {"Ref": "ContentGenerateDeadLetterQueue"},
    }
    alarms = [r for r in out["resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) == 4


@pytest.mark.parametrize(
    ("function", "message"),
    [
        ({"worker": {"batchSize": 1, "maxReceiveCount": 3}}, "needs an integer reservedConcurrency"),
        (
            {
                "reservedConcurrency": 2,
                "worker": {"batchSize": 1, "maxReceiveCount": 3, "fifo": True, "maximumBatchingWindow": 5},
            },
            "batching window on FIFO",
        ),
        ({"reservedConcurrency": 2, "worker": {"batchSize": 20, "maxReceiveCount": 3, "fifo": True}}, "batch size"),
    ],
)
def test_invalid_workers_fail_packaging(function: dict[str, Any], message: str) -> None:
    result = expand({"bad_worker": function})
    assert result.returncode != 0
    assert message in result.stderr
