/** @loa/scripts: the `loa` CLI as a library (for tests and other tools). */
export { COMMANDS, commandHelp, EXIT, langFromEnv, mainHelp, rejectionLine, runCli } from './cli/run.js';
export type { Io, Lang } from './cli/spec.js';
