/**
 * Agent releases (self-update) as a plugin: the release service on the content side's blob
 * store, trust policy and ingest (stations' statuses on the `agent` channel), and its routes;
 * with them the USB-stick export of published bundles (what a station without a link imports).
 */
import { join } from 'node:path';
import { registerBundleTarRoutes } from '../http/routes/bundle-tar.js';
import { registerReleaseRoutes } from '../http/routes/releases.js';
import type { ServerPlugin } from '../server-plugin.js';
import { ReleaseService } from '../services/release-service.js';
import type { ContentPlugin } from './content.js';

export function releasesPlugin(opts: { content: ContentPlugin }): ServerPlugin {
  return {
    name: 'releases',
    start: async (deps) => {
      const c = opts.content.services;
      const releases = new ReleaseService({
        file: join(deps.config.dataDir, 'releases.json'),
        store: deps.store,
        blobs: c.blobs,
        trust: c.trust,
        broker: deps.broker,
        ingest: c.ingest,
        urls: c.urls,
        logger: deps.logger.child({ module: 'releases' }),
        now: () => deps.clock.now(),
      });
      await releases.start();
      c.ingest.addHooks({ onStatus: (deviceId, s) => releases.applyStatus(deviceId, s) });
      return {
        routes: [
          (ctx) => registerReleaseRoutes(ctx, { releases, blobs: c.blobs }),
          (ctx) => registerBundleTarRoutes(ctx, { blobs: c.blobs }),
        ],
      };
    },
  };
}
