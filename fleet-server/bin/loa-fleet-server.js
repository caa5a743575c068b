#!/usr/bin/env node
// Runs the compiled fleet server (npm run build first). Development: see fleet-server/README.md.
import { runCli } from '../dist/cli.js';

await runCli(process.env, undefined, process.argv.slice(2));
