/** Station specs for a command-line simulated fleet. */
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { SimOptions } from './args.js';
import { LINK_PROFILES } from './link-proxy.js';
import { SimStation } from './station.js';

export function buildStations(o: SimOptions, logger: Logger, random: () => number): SimStation[] {
  const profile =
    LINK_PROFILES[o.profile] ?? (LINK_PROFILES.lan as NonNullable<(typeof LINK_PROFILES)['lan']>);
  const stationCount = o.devices - o.noticeboards;
  const out: SimStation[] = [];
  for (let i = 0; i < o.devices; i++) {
    const board = i >= stationCount;
    const k = board ? i - stationCount : i;
    const name = board
      ? `bang-tin-${String(k + 1).padStart(3, '0')}`
      : `tram-${String(k + 1).padStart(4, '0')}`;
    const tokens = board ? o.noticeboardTokens : o.tokens;
    out.push(
      new SimStation(
        {
          name,
          kind: board ? 'noticeboard' : 'station',
          displayName: board ? `Bảng tin điện tử ${k + 1} (mô phỏng)` : `Cụm loa ${k + 1} (mô phỏng)`,
          server: new URL(o.server),
          mqtt: new URL(o.mqtt),
          dataDir: resolve(join(o.dataDir, name)),
          token: tokens[k % tokens.length] as string,
          rootKeys: o.rootKeys.map((p) => resolve(p)),
          healthIntervalS: o.healthIntervalS,
          profile,
          logLevel: o.logLevel,
          ampFault: !board && random() < o.ampFaults,
          clockDriftPpm: (random() * 2 - 1) * o.clockDriftPpm,
        },
        logger,
      ),
    );
  }
  return out;
}
