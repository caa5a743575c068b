#!/usr/bin/env node
/** Entry point of the `loa` CLI (composition root: reads argv, env, cwd and the clock). */
import { langFromEnv, runCli } from './run.js';

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  errRaw: (chunk) => process.stderr.write(chunk),
  isTty: process.stderr.isTTY === true,
  lang: langFromEnv(process.env),
  now: () => new Date(),
  // `npm run loa -- …` runs in the repository root; relative paths mean the caller's directory.
  cwd: (process.env.npm_lifecycle_event === 'loa' && process.env.INIT_CWD) || process.cwd(),
});
process.exitCode = code;
