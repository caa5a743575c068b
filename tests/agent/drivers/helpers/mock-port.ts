/**
 * serialport's mock binding with a scripted device on the far end. The mock binding only
 * echoes, so this bridges every line the transport writes to a simulated device model
 * (modem or FM module) and emits its reply bytes on the mock port, as the device would.
 * The real SerialLineTransport and AtCommandChannel then run unchanged on top.
 */
import { SerialPortMock } from 'serialport';
import type {
  PortOpenOptions,
  SerialPortLike,
} from '../../../../agent/src/drivers/serial/serialport-transport.js';
import type { SimSerialDevice } from '../../../../agent/src/drivers/serial/sim-transport.js';

/** The parts of MockPortBinding used here (the package has no typings under NodeNext). */
interface MockPortBindingLike {
  isOpen: boolean;
  write(buffer: Buffer): Promise<void>;
  emitData(data: Buffer | string): void;
}

export interface MockPortRig {
  path: string;
  /** Port objects created by the transport, newest last (one per (re)connect). */
  ports: SerialPortMock[];
  openPort: (options: PortOpenOptions) => SerialPortLike;
  /** Raw bytes written by the transport, across reconnects. */
  written: () => string;
  /** Emits bytes on the currently open port (unsolicited lines, garbage). */
  emit(data: Buffer | string): void;
  /** Closes the current port from the device side (USB unplug / re-enumeration). */
  unplug(): Promise<void>;
}

let counter = 0;

export function createMockPortRig(device: SimSerialDevice | null): MockPortRig {
  const path = `/dev/ttyMOCK${++counter}`;
  SerialPortMock.binding.createPort(path, { echo: false, record: false });
  const ports: SerialPortMock[] = [];
  let written = '';
  const binding = (p: SerialPortMock) => p.port as unknown as MockPortBindingLike | undefined;
  const current = () => ports.at(-1);

  const openPort = (options: PortOpenOptions): SerialPortLike => {
    const port = new SerialPortMock(options);
    ports.push(port);
    port.on('open', () => {
      const b = binding(port);
      if (!b) return;
      const write = b.write.bind(b);
      let pending = '';
      b.write = async (buf: Buffer) => {
        await write(buf);
        written += buf.toString('latin1');
        pending += buf.toString('latin1');
        let i = pending.indexOf('\r');
        while (i >= 0) {
          const line = pending.slice(0, i);
          pending = pending.slice(i + 1);
          const reply = device?.handle(line);
          if (reply) {
            setTimeout(() => {
              if (!b.isOpen) return;
              if (reply.dropout) {
                port.close();
                return;
              }
              b.emitData(reply.bytes);
            }, reply.delayMs);
          }
          i = pending.indexOf('\r');
        }
      };
    });
    return port as unknown as SerialPortLike;
  };

  return {
    path,
    ports,
    openPort,
    written: () => written,
    emit(data) {
      const p = current();
      const b = p && binding(p);
      if (!b?.isOpen) throw new Error('mock port not open');
      b.emitData(data);
    },
    async unplug() {
      const p = current();
      if (p?.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
    },
  };
}

export function resetMockPorts(): void {
  SerialPortMock.binding.reset();
}
