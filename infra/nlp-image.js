'use strict';

// `${file(infra/nlp-image.js):tag}`: the stage parameter nlpImageTag when no --param gives it.
//
// The NLP service's image is built from nlp_service/Dockerfile and pushed to the stack's ECR
// repository by .github/workflows/deploy.yml, tagged with the commit SHA, which then deploys with
// `--param="nlpImageTag=<sha>"` (docs/deploy.md). Packaging (`sls package`, the tests, `kestrel up`)
// needs no image and gets a placeholder. A stack deploy without the parameter would point the ECS
// service at an image that does not exist, wait for the deployment circuit breaker and roll back:
// it fails here, at once, with what to pass instead.

const PLACEHOLDER = 'no-image';

const PARAM = 'nlpImageTag';

const { givenParam, deploysTheStack, failResolver } = require('./stage-params');

const resolveTag = (options, argv) => {
  const given = givenParam(options, PARAM);
  if (given) return given;
  if (deploysTheStack(argv)) {
    failResolver(
      `Deploying needs the NLP service's image: pass --param="${PARAM}=<tag>" with the tag of an image ` +
        'in the stack\'s ECR repository (the deploy workflow passes the commit SHA it pushed; to keep ' +
        "the running one, read the stack output NlpImageTag). See docs/deploy.md."
    );
  }
  return PLACEHOLDER;
};

module.exports = {
  PLACEHOLDER,
  resolveTag,
  tag: ({ options }) => resolveTag(options, process.argv.slice(2)),
};
