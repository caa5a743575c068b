/**
 * One contract suite for the modem stack, run against
 *  - the real transport (serialport with the SerialPortMock binding) bridged to the scripted
 *    EC25 model, and
 *  - the simulated transport carrying the same model.
 * The AT command layer and the Quectel semantics are the same code in both.
 */
import { isLoaError } from '@loa/protocol';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { QuectelModem } from '../../agent/src/drivers/modem/quectel.js';
import { createQuectelModem } from '../../agent/src/drivers/modem/quectel.js';
import { type SimModemConfig, SimModemDevice, SimModemTransport } from '../../agent/src/drivers/modem/sim.js';
import { SerialLineTransport } from '../../agent/src/drivers/serial/serialport-transport.js';
import type { LineTransport } from '../../agent/src/drivers/serial/types.js';
import { createMockPortRig, resetMockPorts } from '../agent/drivers/helpers/mock-port.js';
import { createPtyRig } from '../agent/drivers/helpers/pty.js';

const logger = pino({ level: 'silent' });
const NOW = Date.UTC(2026, 10, 26, 7, 17, 13);
const clock = { now: () => NOW };

interface Stack {
  modem: QuectelModem;
  device: SimModemDevice;
  transport: LineTransport;
}

type Factory = (config: Partial<SimModemConfig>) => Stack | Promise<Stack>;

const stops: Array<() => Promise<void>> = [];

/** `dropout`: whether the harness can make the port vanish and come back. */
const factories: Record<string, { make: Factory; dropout: boolean }> = {
  'real transport on SerialPortMock': {
    dropout: true,
    make: (config) => {
      const device = new SimModemDevice(config, clock);
      const rig = createMockPortRig(device);
      const transport = new SerialLineTransport({
        path: rig.path,
        logger,
        openPort: rig.openPort,
        reconnectMinMs: 20,
        reconnectMaxMs: 50,
      });
      return { device, transport, modem: createQuectelModem(transport, { logger, timeoutMs: 1000 }).modem };
    },
  },
  'real serialport on a pseudo-terminal': {
    dropout: false,
    make: async (config) => {
      const device = new SimModemDevice(config, clock);
      const pty = await createPtyRig(device);
      stops.push(() => pty.close());
      const transport = new SerialLineTransport({ path: pty.path, logger });
      return { device, transport, modem: createQuectelModem(transport, { logger, timeoutMs: 1000 }).modem };
    },
  },
  'simulated transport': {
    dropout: true,
    make: (config) => {
      const device = new SimModemDevice(config, clock);
      const transport = new SimModemTransport({ device, dropoutMs: 30 });
      return { device, transport, modem: createQuectelModem(transport, { logger, timeoutMs: 1000 }).modem };
    },
  },
};

afterEach(async () => {
  // Newest first: the modem stack stops before the pty behind it closes.
  for (const s of stops.splice(0).reverse()) await s();
  resetMockPorts();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isLoaError(err)) return err.code;
    throw err;
  }
  return 'resolved';
}

for (const [name, { make, dropout }] of Object.entries(factories)) {
  describe(`modem contract: ${name}`, () => {
    async function started(config: Partial<SimModemConfig> = {}): Promise<Stack> {
      const stack = await make({ latencyMs: 2, slowMs: 2000, ...config });
      await stack.modem.start();
      stops.push(() => stack.modem.stop());
      await vi.waitFor(() => expect(stack.transport.isOpen).toBe(true), { timeout: 10_000 });
      return stack;
    }

    it('reads signal, operator, registration and ICCID from an EC25', async () => {
      const { modem } = await started();
      await modem.configure();
      expect(await modem.signal()).toEqual({ csq: 22, dbm: -69 });
      expect(await modem.operator()).toEqual({ name: 'Viettel', tech: 'lte' });
      expect(await modem.registration()).toBe('home');
      expect(await modem.iccid()).toBe('89840480001234567890');
    });

    it('combines CREG and CEREG, and reports no signal as null', async () => {
      const { modem, device } = await started({ creg: 0, cereg: 5, rssi: 99, operator: null });
      expect(await modem.registration()).toBe('roaming');
      expect(await modem.signal()).toEqual({ csq: null, dbm: null });
      expect(await modem.operator()).toEqual({ name: null });
      device.config.cereg = 2;
      expect(await modem.registration()).toBe('searching');
    });

    it('gives network time in UTC, trusted only with NITZ and registration', async () => {
      const { modem, device } = await started();
      expect(await modem.networkTime()).toEqual({ utcMs: NOW, tzQuarterHours: 28, trusted: true });
      device.config.creg = 2;
      device.config.cereg = 2;
      expect((await modem.networkTime()).trusted).toBe(false);
      device.config.creg = 1;
      device.config.nitz = false;
      const t = await modem.networkTime();
      expect(t.trusted).toBe(false);
      expect(new Date(t.utcMs).getUTCFullYear()).toBe(1980);
    });

    it('turns every fault into a coded error and keeps working afterwards', async () => {
      const { modem, device } = await started();
      device.inject('silent');
      expect(await codeOf(modem.signal())).toBe('AT_TIMEOUT');
      device.inject('error');
      expect(await codeOf(modem.signal())).toBe('AT_ERROR');
      device.inject('cme');
      expect(await codeOf(modem.signal())).toBe('AT_CME_ERROR');
      device.inject('garbage-ok');
      expect(await codeOf(modem.signal())).toBe('MODEM_BAD_REPLY');
      device.inject('garbage');
      expect(await codeOf(modem.signal())).toBe('AT_TIMEOUT');
      device.inject('slow');
      expect(await codeOf(modem.signal())).toBe('AT_TIMEOUT');
      // The slow reply arrives later; it must not be taken as the answer to this command.
      device.config.rssi = 5;
      expect(await modem.operator()).toEqual({ name: 'Viettel', tech: 'lte' });
      await new Promise((r) => setTimeout(r, 1200));
      expect(await modem.signal()).toEqual({ csq: 5, dbm: -103 });
    });

    it('reports a missing SIM with the modem’s +CME ERROR', async () => {
      const { modem } = await started({ iccid: null });
      const err = await modem.iccid().catch((e: unknown) => e);
      expect(isLoaError(err) && err.code).toBe('AT_CME_ERROR');
      expect(isLoaError(err) && err.details?.['deviceCode']).toBe('10');
    });

    // Only where the harness can make the port vanish and come back (a pseudo-terminal cannot:
    // the SerialPortMock and simulated transports run it).
    if (dropout) {
      it('survives a USB drop-out and answers again after the port returns', async () => {
        const { modem, device, transport } = await started();
        device.inject('dropout');
        expect(await codeOf(modem.signal())).toBe('SERIAL_CLOSED');
        await vi.waitFor(() => expect(transport.isOpen).toBe(true), { timeout: 10_000 });
        expect(await modem.signal()).toEqual({ csq: 22, dbm: -69 });
      });
    }
  });
}
