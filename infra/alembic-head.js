'use strict';

// `${file(infra/alembic-head.js):revision}`: the Alembic head revision id, read at package time.
//
// Scans migrations/versions/*.py for `revision = "..."` and `down_revision = ...` (plain or
// annotated assignments, single ids or tuples of ids for merge revisions) and returns the one
// revision no other file names as a down_revision. No migrations yet: "base". Several heads would
// make `alembic upgrade head` fail on deploy, so they fail packaging instead.
//
// The value is a property of the `DatabaseMigration` custom resource: a new head changes the
// template, so CloudFormation calls the db_migrate function, which runs `alembic upgrade head`.

const fs = require('fs');
const path = require('path');

const VERSIONS_DIR = path.join(__dirname, '..', 'migrations', 'versions');

const assignment = (name) =>
  new RegExp(`^${name}\\s*(?::[^=\\n]*)?=\\s*([^\\n]*(?:\\n[ \\t]+[^\\n]*)*)`, 'm');
const quoted = /["']([^"']+)["']/g;

const idsIn = (text) => Array.from(text.matchAll(quoted), (match) => match[1]);

const parseMigration = (file) => {
  const source = fs.readFileSync(file, 'utf8');
  const revisionMatch = source.match(assignment('revision'));
  if (!revisionMatch) return null;
  const [revision] = idsIn(revisionMatch[1]);
  if (!revision) return null;
  const downMatch = source.match(assignment('down_revision'));
  let downText = downMatch ? downMatch[1] : '';
  // A tuple may continue on the next lines: read up to its closing parenthesis.
  if (downText.trim().startsWith('(') && !downText.includes(')')) {
    const rest = source.slice(downMatch.index + downMatch[0].length);
    downText += rest.slice(0, rest.indexOf(')') + 1);
  }
  return { file: path.basename(file), revision, downRevisions: idsIn(downText) };
};

const findHead = (versionsDir = VERSIONS_DIR) => {
  if (!fs.existsSync(versionsDir)) return 'base';
  const migrations = fs
    .readdirSync(versionsDir)
    .filter((name) => name.endsWith('.py') && !name.startsWith('__'))
    .sort()
    .map((name) => parseMigration(path.join(versionsDir, name)))
    .filter(Boolean);
  if (!migrations.length) return 'base';
  const referenced = new Set(migrations.flatMap((migration) => migration.downRevisions));
  const heads = migrations.filter((migration) => !referenced.has(migration.revision));
  if (heads.length !== 1) {
    const error = new Error(
      `Expected exactly one Alembic head in migrations/versions, found ${heads.length}: ` +
        `${heads.map((head) => `${head.revision} (${head.file})`).join(', ') || 'none (cycle?)'}`
    );
    error.stack = error.message;
    throw error;
  }
  return heads[0].revision;
};

module.exports = {
  findHead,
  revision: () => findHead(),
};
