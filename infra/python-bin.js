'use strict';

// `${file(infra/python-bin.js):path}`: the Python that serverless-python-requirements runs pip
// with (no Docker; pip fetches manylinux wheels for the Lambda platform). Defaults to the project
// venv, absolute so it does not depend on the directory pip is spawned in; override it with the
// KESTREL_PYTHON_BIN environment variable (e.g. a CI runner's python3.12).

const path = require('path');

module.exports = {
  path: () =>
    process.env.KESTREL_PYTHON_BIN ||
    path.resolve(__dirname, '..', '.venv', 'bin', 'python'),
};
