#!/usr/bin/env node
// The compiled agent (npm run build first). See agent/README.md.
import { runCli } from '../dist/main.js';

process.exit(await runCli(process.argv.slice(2)));
