/**
 * Opens the fleet link's mqtt.js client. For mqtt:// and mqtts:// it builds the MqttClient over a
 * node:net / node:tls socket itself, as mqtt.js's own tcp and tls stream builders do: mqtt's
 * connect() loads the builders of every transport on its first call (ws with zlib and https, the
 * socks client, tls), which a station on plain MQTT keeps resident for nothing (~1 MB of heap and
 * ~2-4 MB RSS). ws:// and wss:// (and a MQTTJS_SOCKS_PROXY) go through mqtt's connect() unchanged.
 */
import { createRequire } from 'node:module';
import { createConnection, isIP } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { connect, type IClientOptions, MqttClient } from 'mqtt';

const require = createRequire(import.meta.url);

function tlsStream(client: MqttClient, o: IClientOptions & { host: string; port: number }): TLSSocket {
  const tls = require('node:tls') as typeof import('node:tls');
  const rejectUnauthorized = o.rejectUnauthorized !== false;
  const conn = tls.connect({
    ...(o as ConnectionOptions),
    host: o.host,
    port: o.port,
    rejectUnauthorized,
    ...(isIP(o.host) === 0 && !o.servername ? { servername: o.host } : {}),
  });
  // As mqtt.js's tls builder: a TLS failure is the client's error and ends the socket.
  const onTlsError = (err: Error) => {
    if (rejectUnauthorized) client.emit('error', err);
    conn.end();
  };
  conn.on('secureConnect', () => {
    if (rejectUnauthorized && !conn.authorized) conn.emit('error', new Error('TLS not authorized'));
    else conn.removeListener('error', onTlsError);
  });
  conn.on('error', onTlsError);
  return conn;
}

/** An mqtt.js client for `url` (mqtt, mqtts, ws, wss), connecting at once like mqtt's connect(). */
export function connectMqtt(url: string, opts: IClientOptions): MqttClient {
  const u = new URL(url);
  const scheme = u.protocol.replace(/:$/, '');
  if ((scheme !== 'mqtt' && scheme !== 'mqtts') || process.env.MQTTJS_SOCKS_PROXY) return connect(url, opts);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port ? Number(u.port) : scheme === 'mqtt' ? 1883 : 8883;
  const o: IClientOptions & { host: string; port: number } = {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...opts,
    protocol: scheme,
    host,
    hostname: host,
    port,
  };
  const client = new MqttClient(
    (c) => (scheme === 'mqtt' ? createConnection({ host, port }) : tlsStream(c, o)),
    o,
  );
  client.on('error', () => undefined); // as connect() does: the caller adds its own listener
  return client;
}
