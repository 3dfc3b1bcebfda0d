'use strict';

// Local serverless plugin: the Kestrel SQS worker pattern from a few lines on the function.
//
//   file_import:
//     handler: functions/file_import/handler.handler
//     timeout: 300
//     reservedConcurrency: ${param:fileImportConcurrency}
//     worker: { batchSize: 10, maximumBatchingWindow: 5, maxReceiveCount: 5 }
//     iamRoleStatements: [ ...only what is special to the worker... ]
//
// For every function with `worker`, before packaging starts (so that osls compiles the event and
// serverless-iam-roles-per-function, registered after this plugin, sees the statements):
//   - <Fn>Queue and <Fn>DeadLetterQueue (KMS stack key; visibility timeout 6 x function timeout,
//     AWS's guidance for Lambda consumers; redrive to the DLQ after maxReceiveCount receives; the
//     DLQ keeps messages 14 days). `fifo: true` makes both FIFO (.fifo, content-based dedup).
//   - the `sqs` event: batch size, batching window, ReportBatchItemFailures, maximumConcurrency.
//   - IAM statements: consume its queue, send to its own DLQ (the handler quarantines permanent
//     failures itself), use the stack key.
//   - environment KESTREL_QUEUE_URL and KESTREL_DLQ_URL.
//   - alarms to the ops topic: DLQ depth, oldest message age, Lambda errors, Lambda throttles.

const SECONDS_14_DAYS = 1209600;
const VISIBILITY_TIMEOUT_FACTOR = 6;
const MAX_VISIBILITY_TIMEOUT = 43200;
// AWS's lower bound for an SQS event source mapping's ScalingConfig.MaximumConcurrency.
const MIN_MAXIMUM_CONCURRENCY = 2;
const DEFAULT_OLDEST_MESSAGE_ALARM_SECONDS = 900;
const DEFAULT_ERRORS_ALARM_THRESHOLD = 5;

const workerSchema = {
  type: 'object',
  properties: {
    batchSize: { type: 'integer', minimum: 1, maximum: 10000 },
    maximumBatchingWindow: { type: 'integer', minimum: 0, maximum: 300 },
    maxReceiveCount: { type: 'integer', minimum: 1, maximum: 1000 },
    // Optional upper bound below the reserved concurrency for the event source mapping. 1 is
    // accepted (a per-stage param such as rollupConcurrency is 1 on dev) but only together with a
    // reserved concurrency of 1, which then caps the worker alone: AWS's minimum is 2.
    maximumConcurrency: { type: 'integer', minimum: 1, maximum: 1000 },
    oldestMessageAlarmSeconds: { type: 'integer', minimum: 60 },
    errorsAlarmThreshold: { type: 'integer', minimum: 1 },
    throttlesAlarmThreshold: { type: 'integer', minimum: 1 },
    // Retention of the main queue (SQS default: 4 days). The DLQ always keeps 14 days.
    messageRetentionSeconds: { type: 'integer', minimum: 60, maximum: SECONDS_14_DAYS },
    fifo: { type: 'boolean' },
  },
  required: ['batchSize', 'maxReceiveCount'],
  additionalProperties: false,
};

const pascalCase = (name) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');

const dashed = (name) => name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();

class KestrelWorkers {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.provider = serverless.getProvider('aws');
    this.log = log;
    this.expanded = false;

    serverless.configSchemaHandler.defineFunctionProperties('aws', {
      properties: { worker: workerSchema },
    });
    serverless.configSchemaHandler.defineCustomProperties({
      type: 'object',
      properties: {
        kestrelWorkers: {
          type: 'object',
          properties: {
            kmsKeyLogicalId: { type: 'string' },
            alarmTopicLogicalId: { type: 'string' },
          },
          required: ['kmsKeyLogicalId', 'alarmTopicLogicalId'],
          additionalProperties: false,
        },
      },
    });

    this.hooks = {
      'before:package:initialize': () => this.expandWorkers(),
    };
  }

  fail(message) {
    throw new this.serverless.classes.Error(`kestrel-workers: ${message}`);
  }

  expandWorkers() {
    if (this.expanded) return;
    this.expanded = true;

    const { service } = this.serverless;
    const settings = (service.custom && service.custom.kestrelWorkers) || {};
    if (!settings.kmsKeyLogicalId || !settings.alarmTopicLogicalId) {
      this.fail('custom.kestrelWorkers needs kmsKeyLogicalId and alarmTopicLogicalId');
    }
    if (!service.resources || Array.isArray(service.resources)) service.resources = {};
    if (!service.resources.Resources) service.resources.Resources = {};
    const resources = service.resources.Resources;

    for (const functionName of service.getAllFunctions()) {
      const functionObject = service.getFunction(functionName);
      if (!functionObject.worker) continue;
      const generated = this.expandWorker(functionName, functionObject, settings);
      for (const [logicalId, resource] of Object.entries(generated)) {
        if (resources[logicalId]) {
          this.fail(`${functionName}: resource ${logicalId} is generated; remove it from resources`);
        }
        resources[logicalId] = resource;
      }
    }
  }

  expandWorker(functionName, functionObject, { kmsKeyLogicalId, alarmTopicLogicalId }) {
    const worker = functionObject.worker;
    const stage = this.provider.getStage();
    const baseName = `${this.serverless.service.service}-${stage}-${dashed(functionName)}`;
    const logicalBase = pascalCase(functionName);
    const queueId = `${logicalBase}Queue`;
    const dlqId = `${logicalBase}DeadLetterQueue`;
    const fifo = worker.fifo === true;
    const suffix = fifo ? '.fifo' : '';

    const timeout = Number(
      functionObject.timeout || this.serverless.service.provider.timeout || 6
    );
    const visibilityTimeout = VISIBILITY_TIMEOUT_FACTOR * timeout;
    if (visibilityTimeout > MAX_VISIBILITY_TIMEOUT) {
      this.fail(`${functionName}: visibility timeout ${visibilityTimeout}s exceeds SQS's 12 hours`);
    }

    const reserved = functionObject.reservedConcurrency;
    if (!Number.isInteger(reserved) || reserved < 1) {
      this.fail(
        `${functionName}: a worker needs an integer reservedConcurrency >= 1 (got ${reserved})`
      );
    }
    if (worker.maximumConcurrency != null && worker.maximumConcurrency < MIN_MAXIMUM_CONCURRENCY && reserved > 1) {
      this.fail(
        `${functionName}: maximumConcurrency ${worker.maximumConcurrency} is below AWS's minimum of ` +
          `${MIN_MAXIMUM_CONCURRENCY}; set reservedConcurrency to 1 instead (got ${reserved})`
      );
    }
    if (fifo && worker.batchSize > 10) {
      this.fail(`${functionName}: FIFO queues allow a batch size of at most 10`);
    }
    if (fifo && worker.maximumBatchingWindow) {
      this.fail(`${functionName}: Lambda does not support a batching window on FIFO queues`);
    }

    const kmsKeyArn = { 'Fn::GetAtt': [kmsKeyLogicalId, 'Arn'] };
    const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };
    const dlqArn = { 'Fn::GetAtt': [dlqId, 'Arn'] };

    const fifoProperties = fifo ? { FifoQueue: true, ContentBasedDeduplication: true } : {};

    const resources = {
      [dlqId]: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: `${baseName}-dlq${suffix}`,
          ...fifoProperties,
          KmsMasterKeyId: { Ref: kmsKeyLogicalId },
          MessageRetentionPeriod: SECONDS_14_DAYS,
        },
      },
      [queueId]: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          QueueName: `${baseName}${suffix}`,
          ...fifoProperties,
          KmsMasterKeyId: { Ref: kmsKeyLogicalId },
          VisibilityTimeout: visibilityTimeout,
          ...(worker.messageRetentionSeconds
            ? { MessageRetentionPeriod: worker.messageRetentionSeconds }
            : {}),
          RedrivePolicy: {
            deadLetterTargetArn: dlqArn,
            maxReceiveCount: worker.maxReceiveCount,
          },
        },
      },
    };

    // Event source mapping. MaximumConcurrency never exceeds the reserved concurrency (more
    // pollers than the function may run would only turn into throttles and wasted receives).
    // AWS's minimum for MaximumConcurrency is 2: with reserved concurrency 1 (the file_import
    // singleton) it is omitted and the reserved concurrency alone caps the worker; the receives
    // that throttling then costs are absorbed by that worker's higher maxReceiveCount.
    const maximumConcurrency = Math.min(reserved, worker.maximumConcurrency || reserved);
    const sqsEvent = {
      arn: queueArn,
      batchSize: worker.batchSize,
      functionResponseType: 'ReportBatchItemFailures',
    };
    if (worker.maximumBatchingWindow != null) {
      sqsEvent.maximumBatchingWindow = worker.maximumBatchingWindow;
    }
    if (maximumConcurrency >= MIN_MAXIMUM_CONCURRENCY) {
      sqsEvent.maximumConcurrency = maximumConcurrency;
    }
    if (!Array.isArray(functionObject.events)) functionObject.events = [];
    functionObject.events.push({ sqs: sqsEvent });

    if (functionObject.iamRoleStatements == null) functionObject.iamRoleStatements = [];
    functionObject.iamRoleStatements.push(
      {
        Effect: 'Allow',
        Action: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
          'sqs:ChangeMessageVisibility',
        ],
        Resource: queueArn,
      },
      {
        Effect: 'Allow',
        Action: ['sqs:SendMessage'],
        Resource: dlqArn,
      },
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: kmsKeyArn,
      }
    );

    functionObject.environment = {
      ...(functionObject.environment || {}),
      KESTREL_QUEUE_URL: { Ref: queueId },
      KESTREL_DLQ_URL: { Ref: dlqId },
    };

    // Alarms: every state change (ALARM and back to OK) goes to the ops topic.
    const lambdaLogicalId = this.provider.naming.getLambdaLogicalId(functionName);
    const alarm = (idSuffix, nameSuffix, description, properties) => ({
      [`${logicalBase}${idSuffix}Alarm`]: {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmName: `${baseName}-${nameSuffix}`,
          AlarmDescription: `${functionName} (${stage}): ${description}`,
          ActionsEnabled: true,
          AlarmActions: [{ Ref: alarmTopicLogicalId }],
          OKActions: [{ Ref: alarmTopicLogicalId }],
          TreatMissingData: 'notBreaching',
          EvaluationPeriods: 1,
          ...properties,
        },
      },
    });
    const oldestMessageSeconds =
      worker.oldestMessageAlarmSeconds || DEFAULT_OLDEST_MESSAGE_ALARM_SECONDS;
    const errorsThreshold = worker.errorsAlarmThreshold || DEFAULT_ERRORS_ALARM_THRESHOLD;
    const throttlesThreshold = worker.throttlesAlarmThreshold || 1;

    Object.assign(
      resources,
      alarm('DlqDepth', 'dlq-depth', 'messages were quarantined in the dead-letter queue', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
      alarm(
        'OldestMessage',
        'oldest-message-age',
        `the oldest queued message is older than ${oldestMessageSeconds}s (backlog)`,
        {
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
          Statistic: 'Maximum',
          Period: 60,
          Threshold: oldestMessageSeconds,
          ComparisonOperator: 'GreaterThanThreshold',
        }
      ),
      alarm('Errors', 'errors', `${errorsThreshold} or more invocation errors in 5 minutes`, {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaLogicalId } }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: errorsThreshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      }),
      alarm('Throttles', 'throttles', `${throttlesThreshold} or more throttles in 5 minutes`, {
        Namespace: 'AWS/Lambda',
        MetricName: 'Throttles',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaLogicalId } }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: throttlesThreshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      })
    );

    return resources;
  }
}

module.exports = KestrelWorkers;
