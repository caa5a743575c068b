/**
 * Pre-roll of a file: ffmpeg reads it from a loopback TCP socket it connects to at start-up, so
 * the process is up and waiting for data; the file's head is read ahead, and at the start
 * instant it is written to the socket, then the rest streams after it. (ffmpeg 5.1's unix:
 * protocol loses the tail of a stream at end of file; tcp: does not.)
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
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
    if (this.path !== undefined) return;
    this.path = path;
    this.head = readHead(path, HEAD_BYTES);
    this.head.catch(() => undefined);
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
        if (this.closed || path === undefined) return;
        beforeWrite();
        sock.write(buf);
        if (buf.length < HEAD_BYTES) {
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
