'use strict';

// `${file(infra/screenshot-image.js):uri}`: the stage parameter screenshotImageUri when no --param gives it.
//
// serp_screenshot is a container-image Lambda (Chromium and Playwright exceed the 250 MB zip limit). Its
// image is built from images/serp_screenshot/Dockerfile and pushed to the ECR repository
// kestrel-<stage>-screenshots by .github/workflows/deploy.yml, which then deploys with
// `--param="screenshotImageUri=<registry>/kestrel-<stage>-screenshots@sha256:<digest>"` (docs/deploy.md).
//
// The URI must name the image by digest: osls resolves a tag by calling ECR (DescribeImages), which would
// make packaging need AWS; a digest is used as it is, and it is the exact image that was built. Packaging
// (`sls package`, the tests, `kestrel up`, which runs the function as a Python handler) needs no image and
// gets a placeholder; a stack deploy without the parameter fails here at once, saying what to pass.

const { givenParam, deploysTheStack, failResolver } = require('./stage-params');

const PARAM = 'screenshotImageUri';

// A well-formed ECR URI by digest that names no image: account 000000000000 does not exist.
const PLACEHOLDER = `000000000000.dkr.ecr.eu-west-1.amazonaws.com/kestrel-screenshots@sha256:${'0'.repeat(64)}`;

const DIGEST_URI = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/[a-z0-9._\/-]+@sha256:[a-f0-9]{64}$/;

const resolveUri = (options, argv) => {
  const given = givenParam(options, PARAM);
  if (given) {
    if (!DIGEST_URI.test(given)) {
      failResolver(
        `${PARAM} must name the image by digest (<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>), ` +
          `not ${JSON.stringify(given)}: a tag would make packaging call ECR. See docs/deploy.md.`
      );
    }
    return given;
  }
  if (deploysTheStack(argv)) {
    failResolver(
      `Deploying needs serp_screenshot's image: pass --param="${PARAM}=<registry>/kestrel-<stage>-screenshots@sha256:<digest>" ` +
        '(the deploy workflow pushes it and passes its digest; to keep the running one, read the function\'s ' +
        'ImageUri with `aws lambda get-function`). See docs/deploy.md.'
    );
  }
  return PLACEHOLDER;
};

module.exports = {
  PLACEHOLDER,
  resolveUri,
  uri: ({ options }) => resolveUri(options, process.argv.slice(2)),
};
