/**
 * The agent's command line (thin): argument parsing, exit codes and signal handling. The
 * composition itself (startAgent, importBundle) lives in main.ts and is passed in.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isLoaError } from '@loa/protocol';
import { type Logger, pino } from 'pino';
import { type AgentConfig, loadConfig } from './config.js';
import { safeStateFromRaw } from './drivers/factory.js';
import { hashPassword } from './http/password.js';
import { localPageUrl, runToneRoutineOnStation } from './http/technician-client.js';
import { stepsText } from './http/technician-lineout.js';

export interface CliDeps {
  start: (config: AgentConfig) => Promise<{ stop(): Promise<void> }>;
  importBundle: (
    config: AgentConfig,
    path: string,
    logger: Logger,
  ) => Promise<{ channel: string; version: number; id: string } | undefined>;
}

const USAGE = `Cách dùng: loa-agent --config TỆP.json
  --config, -c TỆP     tệp cấu hình (xem agent/config.example.json)
  --import ĐƯỜNG_DẪN   nhập gói bản tin từ thư mục hoặc tệp .tar (USB) rồi thoát; dừng dịch vụ trước
  --hash-password      đọc mật khẩu từ đầu vào chuẩn, in chuỗi băm scrypt cho trang kỹ thuật viên
  --test-tone GIÂY     phát chuỗi âm thử đường ra qua dịch vụ đang chạy: âm chuẩn 1 kHz trong GIÂY giây
                       (mật khẩu trang kỹ thuật đọc từ đầu vào chuẩn); thêm --left-right, --sweep
  --help, -h           hướng dẫn này`;

/** Command line entry. Returns the exit code. */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  let args: ReturnType<
    typeof parseArgs<{
      options: {
        config: { type: 'string'; short: 'c' };
        'hash-password': { type: 'boolean' };
        import: { type: 'string' };
        'test-tone': { type: 'string' };
        'left-right': { type: 'boolean' };
        sweep: { type: 'boolean' };
        help: { type: 'boolean'; short: 'h' };
      };
    }>
  >;
  try {
    args = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        'hash-password': { type: 'boolean' },
        import: { type: 'string' },
        'test-tone': { type: 'string' },
        'left-right': { type: 'boolean' },
        sweep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.values['hash-password']) {
    const pw = await readStdin();
    if (pw.length < 8) {
      process.stderr.write('Mật khẩu phải có ít nhất 8 ký tự.\n');
      return 2;
    }
    process.stdout.write(`${await hashPassword(pw)}\n`);
    return 0;
  }
  if (!args.values.config) {
    process.stderr.write(`Thiếu --config.\n${USAGE}\n`);
    return 2;
  }
  const bootLog = pino({ level: 'info' });
  let config: AgentConfig;
  try {
    config = await loadConfig(args.values.config);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    const raw = await readFile(args.values.config, 'utf8')
      .then(JSON.parse)
      .catch(() => undefined);
    await safeStateFromRaw(raw, bootLog);
    return isLoaError(e) && e.code === 'CONFIG_UNREADABLE' ? 66 : 78; // EX_NOINPUT / EX_CONFIG
  }
  if (args.values['test-tone'] !== undefined) return testTone(config, args.values);
  if (args.values.import) {
    try {
      const b = await deps.importBundle(config, args.values.import, bootLog);
      process.stdout.write(
        b ? `Đã nhập: kênh ${b.channel}, phiên bản ${b.version} (${b.id})\n` : 'Không có gì mới để nhập.\n',
      );
      return 0;
    } catch (e) {
      process.stderr.write(
        `Không nhập được gói: ${isLoaError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`,
      );
      return 1;
    }
  }
  // Signals are handled from the first moment: a SIGTERM during start-up stops what started.
  let stopping = false;
  let rt: { stop(): Promise<void> } | undefined;
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => {
    resolveExit = r;
  });
  const onSignal = (sig: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    bootLog.info({ signal: sig }, 'stopping: amplifier off, journal closed');
    const force = setTimeout(() => resolveExit(1), 20_000);
    force.unref();
    if (!rt) return; // start-up finishes, then stops
    rt.stop().then(
      () => resolveExit(code),
      () => resolveExit(1),
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // A bug must not leave the horns live: stop in order (amplifier off), exit non-zero, systemd restarts.
  process.on('uncaughtException', (err) => {
    bootLog.fatal({ err }, 'uncaught exception');
    onSignal('uncaughtException', 70);
  });
  process.on('unhandledRejection', (err) => bootLog.error({ err }, 'unhandled rejection'));
  try {
    rt = await deps.start(config);
  } catch (e) {
    bootLog.fatal({ code: isLoaError(e) ? e.code : undefined, err: e }, 'agent failed to start');
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  if (stopping) {
    await rt.stop();
    return 0;
  }
  return exited;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** `--test-tone SECONDS`: the routine through the running agent's technician page. */
async function testTone(
  config: AgentConfig,
  v: { 'test-tone'?: string; 'left-right'?: boolean; sweep?: boolean },
): Promise<number> {
  const referenceS = Number(v['test-tone']);
  if (!config.technician.enabled) {
    process.stderr.write('Trang kỹ thuật đang tắt (technician.enabled): không phát âm thử được.\n');
    return 1;
  }
  try {
    const r = await runToneRoutineOnStation({
      baseUrl: localPageUrl(config.technician.listen, config.technician.port),
      password: await readStdin(),
      options: { referenceS, leftRight: v['left-right'] === true, sweep: v.sweep === true },
    });
    process.stdout.write(`Đang phát chuỗi âm thử:\n${stepsText(r.profile, r.steps).join('\n')}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(
      `Không phát được âm thử: ${isLoaError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`,
    );
    return 1;
  }
}
