/**
 * The real serial transport (serialport, SerialPortMock binding) and the AT command layer,
 * with replies scripted by the test on the mock port.
 */
import { isLoaError } from '@loa/protocol';
import { pino } from 'pino';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AtCommandChannel, expectedPrefix } from '../../../agent/src/drivers/serial/at-channel.js';
import { LineSplitter } from '../../../agent/src/drivers/serial/lines.js';
import { SerialLineTransport } from '../../../agent/src/drivers/serial/serialport-transport.js';
import { createMockPortRig, type MockPortRig, resetMockPorts } from './helpers/mock-port.js';

const logger = pino({ level: 'silent' });
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  resetMockPorts();
});

async function setup(opts: { timeoutMs?: number; recoveryMs?: number; maxQueue?: number } = {}) {
  const rig = createMockPortRig(null);
  const transport = new SerialLineTransport({
    path: rig.path,
    logger,
    openPort: rig.openPort,
    reconnectMinMs: 20,
    reconnectMaxMs: 100,
    maxLineBytes: 256,
  });
  const channel = new AtCommandChannel({ transport, logger, timeoutMs: opts.timeoutMs ?? 5000, ...opts });
  channel.start();
  await transport.start();
  cleanups.push(async () => {
    channel.stop();
    await transport.stop();
  });
  expect(transport.isOpen).toBe(true);
  return { rig, transport, channel };
}

/** Waits until the transport has written `command` for the n-th time, then replies. */
async function replyTo(rig: MockPortRig, command: string, reply: string, nth = 1): Promise<void> {
  await vi.waitFor(
    () => {
      const count = rig.written().split(`${command}\r`).length - 1;
      if (count < nth) throw new Error(`waiting for ${command}`);
    },
    { timeout: 10_000, interval: 5 },
  );
  rig.emit(reply);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isLoaError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('SerialLineTransport + AtCommandChannel on SerialPortMock', () => {
  it('matches a reply, ignores the echo and keeps URCs apart', async () => {
    const { rig, channel } = await setup();
    const urcs: string[] = [];
    channel.onUrc((l) => urcs.push(l));
    const reply = channel.send('AT+CSQ');
    await replyTo(rig, 'AT+CSQ', 'AT+CSQ\r\r\n+QIND: SMS DONE\r\n\r\n+CSQ: 21,99\r\n\r\nOK\r\n');
    await expect(reply).resolves.toEqual({ command: 'AT+CSQ', lines: ['+CSQ: 21,99'], final: 'OK' });
    expect(urcs).toEqual(['+QIND: SMS DONE']);
    expect(rig.written()).toBe('AT+CSQ\r');
  });

  it('treats a line with the command’s own prefix as the reply, even if it is a URC prefix', async () => {
    const { rig, channel } = await setup();
    const urcs: string[] = [];
    channel.onUrc((l) => urcs.push(l));
    const reply = channel.send('AT+CREG?');
    await replyTo(rig, 'AT+CREG?', '\r\n+CEREG: 1\r\n+CREG: 0,5\r\nOK\r\n');
    expect((await reply).lines).toEqual(['+CREG: 0,5']);
    expect(urcs).toEqual(['+CEREG: 1']);
  });

  it('reports ERROR and +CME ERROR with stable codes and the device code', async () => {
    const { rig, channel } = await setup();
    const a = channel.send('AT+QCCID');
    await replyTo(rig, 'AT+QCCID', '\r\n+CME ERROR: 10\r\n');
    const err = await a.catch((e: unknown) => e);
    expect(isLoaError(err) && err.code).toBe('AT_CME_ERROR');
    expect(isLoaError(err) && err.details?.['deviceCode']).toBe('10');
    const b = channel.send('AT+FOO');
    await replyTo(rig, 'AT+FOO', 'ERROR\r\n');
    expect(await codeOf(b)).toBe('AT_ERROR');
  });

  it('sends one command at a time, in order', async () => {
    const { rig, channel } = await setup();
    const r1 = channel.send('AT+CSQ');
    const r2 = channel.send('AT+COPS?');
    await replyTo(rig, 'AT+CSQ', '+CSQ: 5,99\r\n');
    // The second command is not written before the first one's final result code.
    await new Promise((r) => setTimeout(r, 30));
    expect(rig.written()).toBe('AT+CSQ\r');
    rig.emit('OK\r\n');
    await replyTo(rig, 'AT+COPS?', '+COPS: 0,0,"Viettel",7\r\nOK\r\n');
    expect((await r1).lines).toEqual(['+CSQ: 5,99']);
    expect((await r2).lines).toEqual(['+COPS: 0,0,"Viettel",7']);
    expect(rig.written()).toBe('AT+CSQ\rAT+COPS?\r');
  });

  it('times out, drops the late reply, and answers the next command correctly', async () => {
    const { rig, channel } = await setup({ timeoutMs: 300, recoveryMs: 1000 });
    expect(await codeOf(channel.send('AT+CSQ'))).toBe('AT_TIMEOUT');
    const next = channel.send('AT+COPS?');
    rig.emit('+CSQ: 9,99\r\nOK\r\n'); // late answer to AT+CSQ, during recovery
    await replyTo(rig, 'AT+COPS?', '+COPS: 0\r\nOK\r\n');
    expect((await next).lines).toEqual(['+COPS: 0']);
    expect(channel.strayLines).toBeGreaterThanOrEqual(1);
  });

  it('survives garbage: overlong lines without an ending and binary noise', async () => {
    const { rig, channel } = await setup();
    rig.emit(Buffer.alloc(2000, 0xff)); // no newline, longer than maxLineBytes
    rig.emit(Buffer.from([0x00, 0x9f, 0x0d, 0x0a]));
    const r = channel.send('AT');
    await replyTo(rig, 'AT', '\r\nOK\r\n');
    expect((await r).final).toBe('OK');
  });

  it('rejects when the queue is full and when the port is closed', async () => {
    const { rig, channel, transport } = await setup({ maxQueue: 2 });
    const pending = [channel.send('AT+A'), channel.send('AT+B'), channel.send('AT+C')];
    expect(await codeOf(channel.send('AT+D'))).toBe('AT_QUEUE_FULL');
    await rig.unplug();
    for (const p of pending) expect(await codeOf(p)).toBe('SERIAL_CLOSED');
    await transport.stop();
    expect(await codeOf(channel.send('AT'))).toBe('SERIAL_CLOSED');
    expect(await codeOf(channel.send('rm -rf /'))).toBe('AT_BAD_COMMAND');
  });

  it('reconnects after the device closes the port and works again', async () => {
    const { rig, channel, transport } = await setup();
    const opened = vi.fn();
    transport.on('open', opened);
    const r = channel.send('AT+CSQ');
    await vi.waitFor(() => expect(rig.written()).toContain('AT+CSQ'));
    await rig.unplug();
    expect(await codeOf(r)).toBe('SERIAL_CLOSED');
    await vi.waitFor(() => expect(opened).toHaveBeenCalledTimes(1), { timeout: 10_000 });
    expect(rig.ports.length).toBe(2);
    const again = channel.send('AT+CSQ');
    await replyTo(rig, 'AT+CSQ', '+CSQ: 31,0\r\nOK\r\n', 2);
    expect((await again).lines).toEqual(['+CSQ: 31,0']);
  });

  it('keeps retrying when the port does not exist at start (modem not enumerated yet)', async () => {
    const path = '/dev/ttyLATE';
    const transport = new SerialLineTransport({
      path,
      logger,
      openPort: (o) => new SerialPortMock(o),
      reconnectMinMs: 20,
      reconnectMaxMs: 40,
    });
    cleanups.push(() => transport.stop());
    await transport.start(); // does not throw
    expect(transport.isOpen).toBe(false);
    SerialPortMock.binding.createPort(path, { echo: false });
    await vi.waitFor(() => expect(transport.isOpen).toBe(true), { timeout: 10_000 });
  });
});

describe('line splitting and prefixes', () => {
  it('splits on \\n, drops \\r and empty lines, caps line length', () => {
    const lines: string[] = [];
    const s = new LineSplitter(16, (l) => lines.push(l));
    s.push('\r\nOK\r');
    s.push('\n+CSQ: 1');
    s.push('2,99\r\n0123456789abcdefXYZ\r\nfine\n');
    expect(lines).toEqual(['OK', '+CSQ: 12,99', 'fine']);
  });

  it('derives the reply prefix from the command', () => {
    expect(expectedPrefix('AT+CSQ')).toBe('+CSQ:');
    expect(expectedPrefix('AT+COPS?')).toBe('+COPS:');
    expect(expectedPrefix('AT+FRE=9870')).toBe('+FRE:');
    expect(expectedPrefix('at+qccid')).toBe('+QCCID:');
    expect(expectedPrefix('ATI')).toBeNull();
  });
});
