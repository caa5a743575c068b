/**
 * Pre-roll of a file: ffmpeg reads it from a loopback TCP socket it connects to at start-up, so
 * the process is up and waiting for data; the file's head is read ahead, and at the start
 * instant it is written to the socket, then the rest streams after it. (ffmpeg 5.1's unix:
 * protocol loses the tail of a stream at end of file; tcp: does not.)
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';

const HEAD_BYTES = 256 * 1024;

async function readHead(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await fh.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export class FileFeed {
  private server: Server | undefined;
  private conn: Socket | undefined;
  private closed = false;
  private path: string | undefined;
  /** The whole input in memory (a generated tone): written at the start instant, then the end. */
  private data: Buffer | undefined;
  private head: Promise<Buffer> | undefined;
  private headReady!: () => void;
  private readonly headKnown = new Promise<void>((r) => {
    this.headReady = r;
  });
  private connected!: Promise<Socket>;

  /**
   * The file to feed (known at once, or later for a spare process). Its head is read now, so
   * the start instant only writes to the socket (no file-system round trip on the critical path).
   */
  prefetch(path: string): void {
    if (this.path !== undefined || this.data !== undefined) return;
    this.path = path;
    this.head = readHead(path, HEAD_BYTES);
    this.head.catch(() => undefined);
    this.headReady();
  }

  /** Bytes to feed instead of a file (known later for a spare process, as a file's path). */
  provide(data: Buffer): void {
    if (this.path !== undefined || this.data !== undefined) return;
    this.data = data;
    this.head = Promise.resolve(data);
    this.headReady();
  }

  /** Listens on 127.0.0.1 (ephemeral port); resolves with the URL ffmpeg reads. */
  async listen(): Promise<string> {
    const server = createServer();
    this.server = server;
    this.connected = new Promise<Socket>((resolve) => {
      server.once('connection', (sock) => {
        sock.on('error', () => undefined);
        this.conn = sock;
        // One reader: no other connection is accepted.
        server.close();
        if (this.closed) sock.destroy();
        else resolve(sock);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return `tcp://127.0.0.1:${port}`;
  }

  /**
   * Once `gate` resolves (and ffmpeg has connected), writes the file into the socket.
   * `beforeWrite` runs just before the first byte goes out.
   */
  release(gate: Promise<void>, beforeWrite: () => void): void {
    const head = this.headKnown.then(() => this.head as Promise<Buffer>);
    void Promise.all([gate, head, this.connected])
      .then(([, buf, sock]) => {
        const path = this.path;
        if (this.closed || (path === undefined && this.data === undefined)) return;
        beforeWrite();
        sock.write(buf);
        if (path === undefined || buf.length < HEAD_BYTES) {
          sock.end();
          return;
        }
        const rs = createReadStream(path, { start: buf.length });
        rs.on('error', () => sock.destroy());
        rs.pipe(sock);
      })
      .catch(() => this.close());
  }

  /** ffmpeg gets end of file (stop, or the process ended). */
  close(): void {
    this.closed = true;
    this.conn?.destroy();
    this.conn = undefined;
    this.server?.close();
    this.server = undefined;
  }
}

/**
 * Pre-roll of a file played from an offset (an item resumed after an emergency): seeking needs a
 * seekable input, so the file is served over loopback HTTP with byte ranges. ffmpeg starts and
 * connects at once; every request waits for the start gate, so probing and the seek happen
 * after it (milliseconds on loopback) while the process start-up (about 150 ms on a small board)
 * is already done.
 */
export class RangeFeed {
  private server: HttpServer | undefined;
  private readonly sockets = new Set<Socket>();
  private closed = false;
  private opened: Promise<void> | undefined;

  constructor(private readonly path: string) {}

  /**
   * Listens on 127.0.0.1; resolves with the URL ffmpeg reads. Requests are answered once `gate`
   * resolves; `beforeFirst` runs just before the first byte goes out.
   */
  async listen(gate: Promise<void>, beforeFirst: () => void): Promise<string> {
    const server = createHttpServer((req, res) => {
      this.opened ??= gate.then(() => {
        if (!this.closed) beforeFirst();
      });
      void this.opened.then(() => this.answer(req, res)).catch(() => res.destroy());
    });
    server.keepAliveTimeout = 0;
    server.on('connection', (sock) => {
      sock.on('error', () => undefined);
      if (this.closed) sock.destroy();
      this.sockets.add(sock);
      sock.on('close', () => this.sockets.delete(sock));
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/`;
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.closed) {
      res.destroy();
      return;
    }
    const { size } = await stat(this.path);
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const end = m?.[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (start >= size && size > 0) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    const headers: Record<string, string | number> = {
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Content-Length': Math.max(0, end - start + 1),
    };
    if (m) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(m ? 206 : 200, headers);
    if (req.method === 'HEAD' || end < start) {
      res.end();
      return;
    }
    const rs = createReadStream(this.path, { start, end });
    rs.on('error', () => res.destroy());
    rs.pipe(res);
  }

  /** ffmpeg gets end of file (stop, or the process ended). */
  close(): void {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.server?.close();
    this.server = undefined;
  }
}
