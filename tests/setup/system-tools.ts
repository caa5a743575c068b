/**
 * Before any test file runs (vitest `globalSetup`): every Debian package the tests need is
 * present (scripts/setup/debian-packages.txt, rows marked "test"). A missing one stops the run
 * with one line naming what to install, instead of tests that skip quietly or fail with a spawn
 * ENOENT deep in a stack trace.
 */
import { missingTools, missingToolsMessage } from '../../scripts/src/system-tools.js';

export default function setup(): void {
  const missing = missingTools('test');
  if (missing.length === 0) return;
  const err = new Error(`the tests cannot run: ${missingToolsMessage(missing)}`);
  // One line, not a stack trace: the message says everything.
  err.stack = err.message;
  throw err;
}
