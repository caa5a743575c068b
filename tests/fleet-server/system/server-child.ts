/** Child process for the server kill -9 test: a real fleet server on ephemeral ports in DATA_DIR. */
import { pino } from 'pino';
import { startFleetServer } from '../../../fleet-server/src/main.js';
import { DEMO_UNITS_FILE, seedUnitsFromFile } from '../../../fleet-server/src/seed.js';

const s = await startFleetServer({
  config: { httpPort: 0, mqttPort: 0, dataDir: process.argv[2] as string },
  logger: pino({ level: 'silent' }),
});
await seedUnitsFromFile(s.deps.store, DEMO_UNITS_FILE, new Date().toISOString());
process.stdout.write(`${JSON.stringify({ url: s.url, mqttUrl: s.mqttUrl, bootstrap: s.bootstrap })}\n`);
