import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@loa\/protocol\/fs$/, replacement: src('./protocol/src/fs/index.ts') },
      { find: /^@loa\/protocol$/, replacement: src('./protocol/src/index.ts') },
      { find: /^@loa\/agent$/, replacement: src('./agent/src/index.ts') },
      { find: /^@loa\/fleet-server$/, replacement: src('./fleet-server/src/index.ts') },
    ],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    globals: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Every Debian tool the tests need is present, or the run stops with one line saying what to install.
    globalSetup: ['tests/setup/system-tools.ts'],
    // An unhandled rejection or exception fails the test that was running, by name.
    setupFiles: ['tests/setup/unhandled-errors.ts'],
    // The default report, then the failed and skipped tests again on the last lines.
    reporters: ['default', './tests/setup/summary-reporter.ts'],
  },
});
