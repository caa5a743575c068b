/** Serves the technician page (http/technician.ts) on the configured LAN address. */
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Logger } from 'pino';
import { createTechnicianApp, type TechnicianDeps } from '../../http/technician.js';

export interface TechnicianPageOptions {
  listen: string;
  port: number;
  deps: Omit<TechnicianDeps, 'remoteAddress'>;
  logger: Logger;
}

export class TechnicianPage {
  private server: ServerType | undefined;
  constructor(private readonly o: TechnicianPageOptions) {}

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async start(): Promise<void> {
    const app = createTechnicianApp({ ...this.o.deps, remoteAddress: (c) => getConnInfo(c).remote.address });
    await new Promise<void>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, hostname: this.o.listen, port: this.o.port }, () => resolve());
      s.once('error', reject);
      this.server = s;
    });
    this.o.logger.info({ listen: this.o.listen, port: this.port }, 'technician page listening');
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((r) => {
      if ('closeAllConnections' in s) s.closeAllConnections();
      s.close(() => r());
    });
  }
}
