'use strict';

// What the stage-parameter resolvers (infra/nlp-image.js, infra/screenshot-image.js) share: reading a
// `--param="name=value"` osls was given, telling a stack deploy from the commands that need no image, and
// failing a resolver with just its message.

const asList = (value) => (value == null ? [] : Array.isArray(value) ? value : [value]);

// The value of `--param="<name>=..."`, if given.
const givenParam = (options, name) => {
  const prefix = `${name}=`;
  const given = asList(options && options.param).find((item) => String(item).startsWith(prefix));
  return given == null ? null : String(given).slice(prefix.length).trim();
};

// `sls deploy` (the stack), not `sls deploy function` or `sls deploy list`.
const deploysTheStack = (argv) => {
  const [command, subcommand] = argv.filter((arg) => !arg.startsWith('-'));
  return command === 'deploy' && !['function', 'list'].includes(subcommand);
};

const failResolver = (message) => {
  const error = new Error(message);
  error.stack = error.message; // osls prints `error.stack` of a failing resolver; keep it to the message
  throw error;
};

module.exports = { givenParam, deploysTheStack, failResolver };
