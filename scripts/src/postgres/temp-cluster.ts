/**
 * A throwaway PostgreSQL cluster for tests and benchmarks: Debian's `postgresql` binaries
 * (/usr/lib/postgresql/<version>/bin), `initdb` into a temporary directory, the server on
 * 127.0.0.1 at a free port with its socket in that directory. PostgreSQL refuses to run as root,
 * so as root the cluster belongs to the `postgres` user the Debian package creates (`runuser`).
 * `stop()` shuts the server down and removes the directory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  dir: string;
  bin: string;
  /** A URL for another database of the same cluster. */
  urlFor(database: string): string;
  stop(): Promise<void>;
}

export interface TempPostgresOptions {
  /**
   * Skip fsync (tests: a throwaway cluster need not survive a power cut). Benchmarks leave it on
   * so that PostgreSQL pays for durability as the embedded store does.
   */
  noFsync?: boolean;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

/** Directory of the server binaries of the newest installed PostgreSQL. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(root, versions[0], 'bin');
  }
  throw new Error(
    'PostgreSQL server binaries not found in /usr/lib/postgresql/<version>/bin: run `npm run setup` or apt-get install -y postgresql',
  );
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
}

function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** argv that runs `cmd` as the postgres user when we are root. */
function asOwner(cmd: string, args: string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

export async function startTempPostgres(opts: TempPostgresOptions = {}): Promise<TempPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'loa-pg-'));
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const [icmd, iargs] = asOwner(join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    ...(opts.noFsync ? ['--no-sync'] : []),
  ]);
  execFileSync(icmd, iargs, { stdio: 'pipe' });

  let port = 0;
  let child: ChildProcess | undefined;
  let log = '';
  for (let attempt = 0; attempt < 5 && !child; attempt++) {
    port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: dir,
      max_connections: '200',
      ...(opts.noFsync ? { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } : {}),
      ...opts.settings,
    };
    const args = ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
    const [cmd, cargs] = asOwner(join(bin, 'postgres'), args);
    const c = spawn(cmd, cargs, { stdio: ['ignore', 'pipe', 'pipe'] });
    log = '';
    c.stderr?.on('data', (b: Buffer) => {
      log = (log + b.toString()).slice(-4000);
    });
    c.stdout?.resume();
    let exited = false;
    c.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + 30_000;
    while (!exited && Date.now() < deadline) {
      if (log.includes('ready to accept connections') && (await canConnect(port))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exited && log.includes('ready to accept connections')) child = c;
    else c.kill('SIGKILL');
  }
  if (!child) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${log}`);
  }
  const server = child;
  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    url: urlFor('postgres'),
    port,
    dir,
    bin,
    urlFor,
    async stop() {
      if (server.exitCode === null && server.signalCode === null) {
        const done = new Promise((r) => server.once('exit', r));
        // fast shutdown (roll back open transactions, close connections, checkpoint), sent to the
        // postmaster itself: `runuser` in between does not pass signals on
        const pid = postmasterPid(data);
        const signal = (s: NodeJS.Signals) => {
          try {
            if (pid) process.kill(pid, s);
            else server.kill(s);
          } catch {}
        };
        signal('SIGINT');
        const t = setTimeout(() => signal('SIGKILL'), 10_000);
        await done;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
