'use strict';

// Local serverless plugin: one least-privilege IAM role per function.
//
// serverless-iam-roles-per-function gives a function its own role only when the function declares
// `iamRoleStatements`, and builds that role from the function's statements alone (plus logs, the
// VPC managed policy and its SQS event). This plugin:
//   - gives every function an `iamRoleStatements` list, so every function gets its own role;
//   - adds the X-Ray statement to every traced function: osls adds it only to its shared role,
//     which no function uses here. Resource "*": xray:PutTraceSegments and
//     xray:PutTelemetryRecords support no resource-level permissions (AWS requires "*");
//   - drops osls' shared IamRoleLambdaExecution once no function uses it;
//   - fails packaging if any IAM statement in the template has a wildcard action or a "*"
//     resource other than the documented exceptions below: X-Ray for any role, and
//     ecr:GetAuthorizationToken for the roles ECS starts tasks with (ecs-tasks.amazonaws.com).
//
// Registered after kestrel-workers and before serverless-iam-roles-per-function.

const SHARED_ROLE = 'IamRoleLambdaExecution';

// Actions AWS only accepts with Resource "*".
const RESOURCE_STAR_ACTIONS = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
// The same, for roles only ECS assumes (a task execution role pulling from ECR): the registry
// token has no resource-level permissions; what may be pulled is scoped to the repository.
const ECS_TASK_RESOURCE_STAR_ACTIONS = new Set([...RESOURCE_STAR_ACTIONS, 'ecr:GetAuthorizationToken']);
const ECS_TASKS_PRINCIPAL = 'ecs-tasks.amazonaws.com';

const XRAY_STATEMENT = Object.freeze({
  Effect: 'Allow',
  Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
  Resource: '*',
});

const asList = (value) => (value == null ? [] : Array.isArray(value) ? value : [value]);

class KestrelIam {
  constructor(serverless) {
    this.serverless = serverless;
    this.prepared = false;
    this.hooks = {
      'before:package:initialize': () => this.prepareFunctions(),
      'before:aws:package:finalize:saveServiceState': () => this.finalizeTemplate(),
    };
  }

  fail(message) {
    throw new this.serverless.classes.Error(`kestrel-iam: ${message}`);
  }

  prepareFunctions() {
    if (this.prepared) return;
    this.prepared = true;
    const { service } = this.serverless;
    const providerTracing = service.provider.tracing && service.provider.tracing.lambda;
    for (const functionName of service.getAllFunctions()) {
      const functionObject = service.getFunction(functionName);
      if (functionObject.role) {
        this.fail(`${functionName}: use iamRoleStatements, not role (one role per function)`);
      }
      if (functionObject.iamRoleStatements == null) functionObject.iamRoleStatements = [];
      const tracing = functionObject.tracing != null ? functionObject.tracing : providerTracing;
      if (tracing) {
        functionObject.iamRoleStatements.push({ ...XRAY_STATEMENT, Action: [...XRAY_STATEMENT.Action] });
      }
    }
  }

  finalizeTemplate() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources;

    if (resources[SHARED_ROLE]) {
      const others = { ...resources };
      delete others[SHARED_ROLE];
      if (JSON.stringify({ ...template, Resources: others }).includes(`"${SHARED_ROLE}"`)) {
        this.fail(`${SHARED_ROLE} is still referenced: every function must have its own role`);
      }
      delete resources[SHARED_ROLE];
    }

    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::IAM::Role') continue;
      for (const policy of asList(resource.Properties && resource.Properties.Policies)) {
        if (policy.PolicyDocument && Array.isArray(policy.PolicyDocument.Statement)) {
          policy.PolicyDocument.Statement = this.constructor.withoutCoveredStatements(
            policy.PolicyDocument.Statement
          );
        }
      }
    }

    for (const [logicalId, resource] of Object.entries(resources)) {
      const starActions = this.constructor.assumedOnlyByEcsTasks(resource)
        ? ECS_TASK_RESOURCE_STAR_ACTIONS
        : RESOURCE_STAR_ACTIONS;
      for (const statement of this.constructor.iamStatements(resource)) {
        const actions = asList(statement.Action);
        const wildcardAction = actions.find((action) => typeof action === 'string' && action.includes('*'));
        if (wildcardAction) {
          this.fail(`${logicalId}: wildcard action ${wildcardAction} in ${JSON.stringify(statement)}`);
        }
        if (statement.NotAction || statement.NotResource) {
          this.fail(`${logicalId}: NotAction/NotResource are not allowed: ${JSON.stringify(statement)}`);
        }
        const starResource = asList(statement.Resource).includes('*');
        if (starResource && !actions.every((action) => starActions.has(action))) {
          this.fail(`${logicalId}: Resource "*" in ${JSON.stringify(statement)}`);
        }
      }
    }
  }

  // Drops statements another statement of the same policy already grants (same effect and
  // condition, a superset of actions and resources), e.g. serverless-iam-roles-per-function's
  // own SQS statement next to the worker's fuller one.
  static withoutCoveredStatements(statements) {
    const key = (value) => JSON.stringify(value);
    const shape = (statement) => ({
      effect: statement.Effect,
      condition: key(statement.Condition || null),
      plain: !statement.NotAction && !statement.NotResource && !statement.Principal,
      actions: new Set(asList(statement.Action)),
      resources: new Set(asList(statement.Resource).map(key)),
    });
    const shapes = statements.map(shape);
    const covers = (outer, inner) =>
      outer.plain &&
      inner.plain &&
      outer.effect === inner.effect &&
      outer.condition === inner.condition &&
      [...inner.actions].every((action) => outer.actions.has(action)) &&
      [...inner.resources].every((resource) => outer.resources.has(resource));
    const dropped = new Set();
    shapes.forEach((inner, i) => {
      const coveredBy = shapes.findIndex(
        (outer, j) =>
          j !== i && !dropped.has(j) && covers(outer, inner) && (!covers(inner, outer) || j < i)
      );
      if (coveredBy !== -1) dropped.add(i);
    });
    return statements.filter((_, i) => !dropped.has(i));
  }

  // A role whose trust policy lets ECS tasks, and nothing else, assume it.
  static assumedOnlyByEcsTasks(resource) {
    if (!resource || resource.Type !== 'AWS::IAM::Role') return false;
    const trust = (resource.Properties || {}).AssumeRolePolicyDocument || {};
    const principals = asList(trust.Statement).flatMap((statement) => {
      const principal = statement.Principal || {};
      return Object.keys(principal).length === 1 && principal.Service
        ? asList(principal.Service)
        : [null];
    });
    return principals.length > 0 && principals.every((service) => service === ECS_TASKS_PRINCIPAL);
  }

  // Statements of identity policies (role inline policies, AWS::IAM::Policy/ManagedPolicy).
  static iamStatements(resource) {
    if (!resource || typeof resource !== 'object') return [];
    const properties = resource.Properties || {};
    let documents = [];
    if (resource.Type === 'AWS::IAM::Role') {
      documents = asList(properties.Policies).map((policy) => policy.PolicyDocument);
    } else if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      documents = [properties.PolicyDocument];
    }
    return documents.filter(Boolean).flatMap((document) => asList(document.Statement));
  }
}

module.exports = KestrelIam;
