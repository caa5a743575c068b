/**
 * Turns an unhandled rejection or uncaught exception into a failure of the test that was running
 * when it happened (vitest alone reports such errors only after every file has run, apart from
 * any test, and fails the whole run). Runs in every test file (`setupFiles` in vitest.config.ts).
 */
import { afterAll, afterEach } from 'vitest';

const seen: unknown[] = [];
const record = (err: unknown) => {
  seen.push(err);
};
process.on('unhandledRejection', record);
process.on('uncaughtException', record);

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

function check(where: string): void {
  if (seen.length === 0) return;
  const errors = seen.splice(0);
  const first = errors[0];
  const err = new Error(
    `${errors.length} unhandled error(s) ${where}: ${errors.map(describeError).join('; ')}`,
    first instanceof Error ? { cause: first } : undefined,
  );
  throw err;
}

afterEach((ctx) => check(`during "${ctx.task.name}"`));
afterAll(() => check('after the last test of this file (in a hook or a timer it left running)'));
