/**
 * `npm run sim -- --devices N --server URL --token T --root-key FILE [options]`: N simulated
 * stations and noticeboards in this process, each the real agent over simulated hardware and
 * audio timing, through simulated 4G links. Prints a summary every 15 s; Ctrl-C stops cleanly.
 * Bad arguments exit 2 with a message.
 */
import { pino } from 'pino';
import { parseSimArgs, SIM_HELP, type SimOptions, UsageError } from './args.js';
import { SimFleet } from './fleet.js';
import { seededRandom } from './random.js';
import { buildStations } from './stations.js';

async function main(): Promise<number> {
  let opts: SimOptions | 'help';
  try {
    opts = parseSimArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`sim: ${e.message}\n\n${SIM_HELP}`);
      return 2;
    }
    throw e;
  }
  if (opts === 'help') {
    process.stdout.write(SIM_HELP);
    return 0;
  }
  const o = opts;
  const logger = pino({ level: o.logLevel }, pino.destination(2));
  const random = seededRandom(o.seed);
  const fleet = new SimFleet(
    buildStations(o, logger, random),
    {
      powerCutsPerHour: o.powerCutsPerHour,
      powerCutSeconds: o.powerCutSeconds,
      outagesPerHour: o.outagesPerHour,
      outageSeconds: o.outageSeconds,
      jitterMs: o.jitterMs,
    },
    random,
    logger,
  );
  const print = () => {
    const s = fleet.summary();
    process.stdout.write(
      `[sim] ${new Date().toISOString()} devices ${s.devices}: running ${s.running}, enrolled ${s.enrolled}, ` +
        `connected ${s.connected}, power-cut ${s.powerCut} (cuts ${s.powerCuts}, cell outages ${s.outages}), ` +
        `faulty amplifiers ${s.ampFaults}, on air ${s.onAir}, recalls obeyed ${s.withdrawn}, largest board clock offset ${s.maxClockOffsetMs} ms, start failures ${s.startFailures}\n`,
    );
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.stdout.write('[sim] stopping…\n');
      clearInterval(ticker);
      await fleet.stop();
      print();
    })();
    return stopping;
  };
  const ticker = setInterval(print, 15_000);
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(0)));
  process.stdout.write(
    `[sim] starting ${o.devices} devices (${o.noticeboards} noticeboards) against ${o.server}, profile ${o.profile}\n`,
  );
  await fleet.start();
  print();
  if (o.durationS > 0) {
    await new Promise((r) => setTimeout(r, o.durationS * 1000));
    await stop();
    return 0;
  }
  await new Promise<never>(() => undefined);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`sim: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
