import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * Files that check where sound lands in time (real ffmpeg in real time into a WAV file). They run
 * after every other file, beside each other only: sharing the two cores with Chromium, tsc-heavy
 * and CPU-bound files starves their decoders and makes their timing a measure of the load.
 */
const REALTIME = [
  'tests/agent/player-timing.test.ts',
  'tests/agent/audio/ffmpeg-driver.test.ts',
  'tests/contracts/audio.test.ts',
  'tests/e2e/agent-playback.test.ts',
  'tests/e2e/server-agent.test.ts',
  'tests/e2e/emergency-inline.test.ts',
];

/**
 * Files that need PostgreSQL: their project starts one throwaway cluster for all of them
 * (tests/setup/postgres.ts) and each test takes a database of its own.
 */
const POSTGRES = [
  'tests/contracts/store.test.ts',
  'tests/fleet-server/store/postgres/**/*.test.ts',
  'tests/fleet-server/system/cluster-two-nodes.test.ts',
  'tests/fleet-server/system/cluster-shared-state.test.ts',
];

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
    globals: false,
    // A cap for a test that hangs, not a speed bound: real ffmpeg, Chromium and child processes on
    // a loaded 2-core machine take several times their quiet-machine time (a 2 s upload and
    // transcode took over 30 s at load 39), and a cap they can reach fails a sound test.
    testTimeout: 90_000,
    hookTimeout: 90_000,
    // One process per file (native addons, child processes, process-wide listeners), as many
    // files at a time as there are cores: vitest's default (cores − 1) runs one file at a time on
    // a 2-core machine, while most files spend their time waiting on sockets, timers and child
    // processes (ffmpeg, Chromium, agents).
    pool: 'forks',
    maxWorkers: availableParallelism(),
    minWorkers: 1,
    // Every Debian tool the tests need is present, or the run stops with one line saying what to install.
    globalSetup: ['tests/setup/system-tools.ts'],
    // An unhandled rejection or exception fails the test that was running, by name.
    setupFiles: ['tests/setup/unhandled-errors.ts'],
    // The default report, then the failed and skipped tests again on the last lines.
    reporters: ['default', './tests/setup/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['tests/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...REALTIME, ...POSTGRES],
        },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: POSTGRES,
          globalSetup: ['tests/setup/system-tools.ts', 'tests/setup/postgres.ts'],
        },
      },
      { extends: true, test: { name: 'realtime', include: REALTIME, sequence: { groupOrder: 1 } } },
    ],
  },
});
