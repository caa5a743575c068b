#!/usr/bin/env node
// The compiled agent (npm run build first). See agent/README.md.
import { agentCli } from '../dist/main.js';

process.exit(await agentCli(process.argv.slice(2)));
