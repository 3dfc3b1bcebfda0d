'use strict';

// Resolves and validates the deployment stage: `${file(infra/stage.js):stage}`.
//
// Kestrel deploys only `dev` and `prod` to AWS; `local` is the offline stack (same parameters as
// dev, cheap values). Anything else (a typo such as `--stage prd`, or `qa`) must fail before any
// resource is named after it, with a message that says what is allowed.

const STAGES = Object.freeze(['dev', 'prod', 'local']);

class UnknownStageError extends Error {
  constructor(stage) {
    super(
      `Unknown stage "${stage}": Kestrel deploys only dev and prod (and local for the local stack)`
    );
    this.name = 'UnknownStageError';
    // osls prints `error.stack` of a failing resolver; keep it to the one-line message.
    this.stack = this.message;
  }
}

const validateStage = (stage) => {
  const value = stage == null || stage === '' ? 'dev' : String(stage);
  if (!STAGES.includes(value)) throw new UnknownStageError(value);
  return value;
};

module.exports = {
  STAGES,
  validateStage,
  // `${file(infra/stage.js):stage}`: the validated stage from `--stage` (default dev).
  stage: ({ options }) => validateStage(options && (options.stage || options.s)),
};
