/**
 * Static files of the dashboard, all served locally (no CDN): our own assets directory and a
 * whitelist of files from npm packages (Leaflet, uPlot, the Be Vietnam Pro font). Paths are
 * resolved inside a fixed root and checked against an extension whitelist; anything else is 404.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

const require = createRequire(import.meta.url);

/** The dashboard's own asset directory (next to this file; copied as-is, also from dist/). */
function ownAssetsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/http/ui → src/http/ui/assets (assets are not compiled).
  const fromDist = here.replace(`${sep}dist${sep}http${sep}ui`, `${sep}src${sep}http${sep}ui`);
  return join(fromDist, 'assets');
}

function pkgDir(pkgFile: string): string {
  return dirname(require.resolve(pkgFile));
}

export interface AssetRoots {
  /** Mount name → directory. */
  [mount: string]: string;
}

export function defaultAssetRoots(): AssetRoots {
  return {
    assets: ownAssetsDir(),
    'vendor/leaflet': pkgDir('leaflet/dist/leaflet.js'),
    'vendor/uplot': pkgDir('uplot/dist/uPlot.iife.min.js'),
    'vendor/font': pkgDir('@fontsource/be-vietnam-pro/package.json'),
  };
}

interface Cached {
  body: Uint8Array;
  etag: string;
  type: string;
  mtimeMs: number;
}

/** Resolves `rel` inside `root`; null when it escapes or has a forbidden extension. */
export function safeAssetPath(root: string, rel: string): string | null {
  if (rel.includes('\0') || rel.includes('\\')) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return null;
  }
  if (decoded.split('/').some((p) => p === '..' || p.startsWith('.'))) return null;
  const full = normalize(join(root, decoded));
  if (!full.startsWith(root + sep)) return null;
  if (!(extname(full) in TYPES)) return null;
  return full;
}

/** Hono routes under the dashboard base: /assets/*, /vendor/<pkg>/*. */
export function assetRoutes(roots: AssetRoots = defaultAssetRoots()): Hono {
  const app = new Hono();
  const cache = new Map<string, Cached>();
  const mounts = Object.keys(roots).sort((a, b) => b.length - a.length);

  app.get('/*', async (c) => {
    const path = c.req.path.replace(/^.*?\/(assets|vendor)\//, '$1/');
    const mount = mounts.find((m) => path.startsWith(`${m}/`));
    if (!mount) return c.notFound();
    const root = roots[mount] as string;
    const file = safeAssetPath(root, path.slice(mount.length + 1));
    if (!file) return c.notFound();
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      st = await stat(file);
    } catch {
      return c.notFound();
    }
    if (!st.isFile()) return c.notFound();
    let hit = cache.get(file);
    if (!hit || hit.mtimeMs !== st.mtimeMs) {
      const body = new Uint8Array(await readFile(file));
      hit = {
        body,
        etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`,
        type: TYPES[extname(file)] as string,
        mtimeMs: st.mtimeMs,
      };
      cache.set(file, hit);
    }
    const headers: Record<string, string> = {
      'content-type': hit.type,
      etag: hit.etag,
      'cache-control': mount === 'assets' ? 'no-cache' : 'public, max-age=86400',
      'x-content-type-options': 'nosniff',
    };
    if (c.req.header('if-none-match') === hit.etag) return c.body(null, 304, headers);
    return c.body(hit.body as Uint8Array<ArrayBuffer>, 200, headers);
  });
  return app;
}
