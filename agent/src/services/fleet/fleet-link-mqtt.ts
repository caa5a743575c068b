/**
 * Opens the fleet link's mqtt.js client. For mqtt:// and mqtts:// it builds the MqttClient over a
 * node:net / node:tls socket itself, as mqtt.js's own tcp and tls stream builders do: mqtt's
 * connect() loads the builders of every transport on its first call (ws with zlib and https, the
 * socks client, tls), which a station on plain MQTT keeps resident for nothing (~1 MB of heap and
 * ~2-4 MB RSS). ws:// and wss:// (and a MQTTJS_SOCKS_PROXY) go through mqtt's connect() unchanged.
 */
import { createRequire } from 'node:module';
import { createConnection, isIP } from 'node:net';
import { Duplex } from 'node:stream';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { LoaError } from '@loa/protocol';
import { connect, type IClientOptions, MqttClient } from 'mqtt';
import { connectPinned } from '../../http/tls-pin.js';

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

/**
 * mqtts with a pinned server key (see http/tls-pin.ts): a stream that holds every write (the
 * CONNECT packet carries the device's password) until the server's key matched the pin; on a
 * mismatch the client gets TLS_PIN_MISMATCH and nothing was sent.
 */
function pinnedStream(
  client: MqttClient,
  o: IClientOptions & { host: string; port: number },
  pin: string,
): Duplex {
  const tls = require('node:tls') as typeof import('node:tls');
  let socket: TLSSocket | undefined;
  const held: [Buffer, (e?: Error | null) => void][] = [];
  const stream = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      if (socket) socket.write(chunk, cb);
      else held.push([chunk, cb]);
    },
    read() {
      socket?.resume();
    },
    final(cb) {
      socket ? socket.end(cb) : cb();
    },
    destroy(err, cb) {
      socket?.destroy();
      cb(err);
    },
  });
  connectPinned(
    tls,
    { host: o.host, port: o.port, ...(isIP(o.host) === 0 ? { servername: o.servername ?? o.host } : {}) },
    pin,
    (err, s) => {
      if (err || !s) {
        client.emit('error', err ?? new Error('TLS connection failed'));
        stream.destroy();
        return;
      }
      socket = s;
      s.on('data', (d: Buffer) => {
        if (!stream.push(d)) s.pause();
      });
      s.on('end', () => stream.push(null));
      s.on('close', () => stream.destroy());
      s.on('error', (e) => stream.destroy(e));
      for (const [chunk, cb] of held.splice(0)) s.write(chunk, cb);
    },
  );
  return stream;
}

/**
 * An mqtt.js client for `url` (mqtt, mqtts, ws, wss), connecting at once like mqtt's connect().
 * With `tlsPin`, an mqtts server must present the pinned key (TLS_PIN_MISMATCH otherwise).
 */
export function connectMqtt(url: string, opts: IClientOptions, tlsPin?: string): MqttClient {
  const u = new URL(url);
  const scheme = u.protocol.replace(/:$/, '');
  if (tlsPin && scheme !== 'mqtts' && scheme !== 'mqtt')
    throw new LoaError('TLS_PIN_UNSUPPORTED', `a TLS pin needs an mqtts:// address, not ${scheme}://`);
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
    (c) =>
      scheme === 'mqtt'
        ? createConnection({ host, port })
        : tlsPin
          ? pinnedStream(c, o, tlsPin)
          : tlsStream(c, o),
    o,
  );
  client.on('error', () => undefined); // as connect() does: the caller adds its own listener
  return client;
}
