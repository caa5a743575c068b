#!/usr/bin/env node
/**
 * `npm run flows`: Node-RED with the Loa palette and the example flows, against the running fleet
 * server. Its user directory is `<DATA_DIR>/node-red` (DATA_DIR as the server's, default ./data).
 * On the first start the example flows are installed (flows.json) and, when LOA_TOKEN is given,
 * the API token is stored in each loa-server node's credentials, encrypted with LOA_FLOWS_SECRET.
 *
 * Environment: LOA_FLOWS_SECRET (required), LOA_URL (default http://127.0.0.1:8080), LOA_TOKEN,
 * LOA_FLOWS_HOST (127.0.0.1), LOA_FLOWS_PORT (1880), DATA_DIR; the example flows read FEED_URL,
 * FEED_UNIT, SMTP_HOST, SMTP_PORT, NOTIFY_*, STATS_UPSTREAM_* (see flows/README.md).
 */
'use strict';
const { spawn } = require('node:child_process');
const { createCipheriv, createHash, randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

/** The example flows, one array. */
function exampleFlows() {
  const dir = path.join(root, 'examples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')));
}

/** Node-RED's credential file format: aes-256-ctr, key sha256(secret), iv in hex before the base64 text. */
function encryptCredentials(secret, creds) {
  const key = createHash('sha256').update(secret).digest();
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-ctr', key, iv);
  return { $: iv.toString('hex') + c.update(JSON.stringify(creds), 'utf8', 'base64') + c.final('base64') };
}

function writeAtomic(file, text) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Prepares the user directory; returns its path. Exported for tests. */
function prepareUserDir(env) {
  const secret = env.LOA_FLOWS_SECRET;
  if (!secret || secret.length < 16) throw new Error('LOA_FLOWS_SECRET must be set (at least 16 characters)');
  const userDir = path.resolve(env.DATA_DIR || './data', 'node-red');
  mkdirSync(userDir, { recursive: true, mode: 0o700 });
  const flowFile = path.join(userDir, 'flows.json');
  if (!existsSync(flowFile)) {
    const flows = exampleFlows();
    writeAtomic(flowFile, `${JSON.stringify(flows, null, 2)}\n`);
    if (env.LOA_TOKEN) {
      const creds = {};
      for (const n of flows) if (n.type === 'loa-server') creds[n.id] = { token: env.LOA_TOKEN };
      writeAtomic(
        path.join(userDir, 'flows_cred.json'),
        `${JSON.stringify(encryptCredentials(secret, creds), null, 2)}\n`,
      );
    }
  }
  return userDir;
}

function main() {
  const env = { ...process.env, LOA_URL: process.env.LOA_URL || 'http://127.0.0.1:8080' };
  let userDir;
  try {
    userDir = prepareUserDir(env);
  } catch (err) {
    process.stderr.write(`loa flows: ${err.message}\n`);
    process.exitCode = 1;
    return;
  }
  const red = require.resolve('node-red/red.js');
  const child = spawn(
    process.execPath,
    [red, '--userDir', userDir, '--settings', path.join(root, 'settings.js')],
    {
      env,
      stdio: 'inherit',
    },
  );
  const stop = (sig) => child.kill(sig);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
}

if (require.main === module) main();
module.exports = { prepareUserDir, encryptCredentials, exampleFlows };
