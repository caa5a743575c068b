/**
 * Child process for the two-node cluster test: a whole fleet server (standard plugins) with the
 * configuration in LOA_TEST_CONFIG (JSON) and the signing master key in LOA_KEY_SECRET, on
 * ephemeral ports; prints its URLs as one JSON line.
 */
import { pino } from 'pino';
import { startFleetServer } from '../../../fleet-server/src/main.js';
import { standardPlugins } from '../../../fleet-server/src/plugins/standard.js';
import { parseMasterKey } from '../../../fleet-server/src/services/signer.js';

const s = await startFleetServer({
  config: { httpPort: 0, mqttPort: 0, ...JSON.parse(process.env.LOA_TEST_CONFIG ?? '{}') },
  logger: pino({ level: 'silent' }),
  plugins: standardPlugins({ content: { masterKey: parseMasterKey(process.env.LOA_KEY_SECRET ?? '') } }),
});
process.stdout.write(`${JSON.stringify({ url: s.url, mqttUrl: s.mqttUrl })}\n`);
