/**
 * GET /api/v1/bundles/:id/tar: a published bundle as the single-file tar a USB stick carries
 * (what `loa bundle pack` makes: manifest.json, then blobs/<sha256>), for a station with no
 * link. Built in a temporary directory beside the blob store, streamed, then removed.
 */
import { createReadStream } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LoaError, manifestBlobs } from '@loa/protocol';
import { packBundle, writeFileAtomic } from '@loa/protocol/fs';
import { z } from 'zod';
import { requireScope } from '../../domain/rbac.js';
import type { BlobStore } from '../../services/blob-store.js';
import type { RouteContext } from '../route-context.js';

export function registerBundleTarRoutes({ api, deps }: RouteContext, services: { blobs: BlobStore }): void {
  api.add({
    method: 'get',
    path: '/bundles/:id/tar',
    summary: 'A published bundle as a USB-stick tar (manifest.json + blobs/<sha256>, as `loa bundle pack`)',
    tags: ['bundles'],
    permission: 'read',
    response: z.string().describe('the ustar file'),
    responseType: 'application/x-tar',
    handler: async ({ params, user }) => {
      const b = await deps.store.bundles.get(params.id);
      if (b?.state !== 'published')
        throw new LoaError('BUNDLE_NOT_FOUND', 'không có gói tin đã phát hành này');
      for (const u of b.units) requireScope(user, u);
      const tmp = await mkdtemp(join(deps.config.dataDir, '.bundle-tar-'));
      try {
        await mkdir(join(tmp, 'bundle', 'blobs'), { recursive: true });
        await writeFileAtomic(join(tmp, 'bundle', 'manifest.json'), JSON.stringify(b.manifest, null, 2));
        for (const blob of manifestBlobs(b.manifest)) {
          const src = services.blobs.path(blob.sha256);
          const dst = join(tmp, 'bundle', 'blobs', blob.sha256);
          await link(src, dst).catch(() => copyFile(src, dst));
        }
        const tar = join(tmp, `${b.id}.tar`);
        await packBundle(join(tmp, 'bundle'), tar);
        const size = (await stat(tar)).size;
        const stream = createReadStream(tar);
        stream.once('close', () => void rm(tmp, { recursive: true, force: true }));
        return new Response(Readable.toWeb(stream) as ReadableStream, {
          headers: {
            'Content-Type': 'application/x-tar',
            'Content-Length': String(size),
            'Content-Disposition': `attachment; filename="${b.channel}-v${b.version}.tar"`,
          },
        });
      } catch (e) {
        await rm(tmp, { recursive: true, force: true });
        throw e;
      }
    },
  });
}
