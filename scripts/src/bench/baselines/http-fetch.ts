/** N concurrent HTTP clients each fetching a list of URLs; aggregate MB/s. */
import { request } from 'node:http';

export interface FetchRun {
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  failures: number;
}

export function fetchCount(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      if ((res.statusCode ?? 0) >= 400) {
        res.resume();
        reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        return;
      }
      let n = 0;
      res.on('data', (c: Buffer) => {
        n += c.length;
      });
      res.on('end', () => resolve(n));
      res.on('error', reject);
    });
    req.setTimeout(120_000, () => req.destroy(new Error(`GET ${url}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

/** Each of `clients` fetches every URL of `urls(c)` in turn, all clients at once. */
export async function concurrentFetch(
  clients: number,
  urls: (c: number) => string[],
  headers: (c: number) => Record<string, string> = () => ({}),
): Promise<FetchRun> {
  let bytes = 0;
  let failures = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (const u of urls(c)) {
        try {
          const n = await fetchCount(u, headers(c));
          bytes += n;
        } catch {
          failures++;
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { bytes, seconds, mbPerSecond: bytes / (1024 * 1024) / seconds, failures };
}
