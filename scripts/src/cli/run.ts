import { isLoaError, isReasonCode, REASONS, REASONS_VI, VerifyError } from '@loa/protocol';
import { bundlePack, bundleSign, bundleUnpack, bundleVerify } from './commands-bundle.js';
import { bundleBuild } from './commands-bundle-build.js';
import { flash } from './commands-flash.js';
import { keygen, trustAdd, trustInit, trustShow } from './commands-keys.js';
import { provision } from './commands-provision.js';
import { releaseBuild, releaseSign } from './commands-release.js';
import { trustRemove, trustRotate, trustSign } from './commands-trust-extra.js';
import { type CommandSpec, closest, type Io, type Lang, parseCommand, tr, UsageError } from './spec.js';

export const COMMANDS: readonly CommandSpec[] = [
  keygen,
  trustInit,
  trustAdd,
  trustSign,
  trustRemove,
  trustRotate,
  trustShow,
  bundleBuild,
  bundleSign,
  bundleVerify,
  bundlePack,
  bundleUnpack,
  flash,
  provision,
  releaseBuild,
  releaseSign,
];

/** Exit codes: 0 success, 1 rejected or failed, 2 usage error. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

export function langFromEnv(env: NodeJS.ProcessEnv): Lang {
  const v = (env.LOA_LANG ?? '').toLowerCase();
  return v.startsWith('en') ? 'en' : 'vi';
}

function optionLines(io: Io, spec: CommandSpec): string[] {
  return Object.entries(spec.options).map(([name, o]) => {
    const flag = `--${name}${o.value ? ` ${o.value}` : ''}${o.multiple ? ' …' : ''}`;
    const req = o.required ? tr(io, { vi: ' (bắt buộc)', en: ' (required)' }) : '';
    return `    ${flag.padEnd(30)} ${tr(io, o.help)}${req}`;
  });
}

export function commandHelp(io: Io, spec: CommandSpec): string {
  const lines = [
    `loa ${spec.name}${Object.keys(spec.options).length ? ' [options]' : ''}${spec.args ? ` ${spec.args}` : ''}`,
    `  ${tr(io, spec.summary)}`,
  ];
  if (Object.keys(spec.options).length) lines.push(...optionLines(io, spec));
  lines.push(`  ${tr(io, { vi: 'Ví dụ', en: 'Examples' })}:`, ...spec.examples.map((e) => `    ${e}`));
  return lines.join('\n');
}

export function mainHelp(io: Io): string {
  const head = tr(io, {
    vi: 'loa — khóa, chính sách tin cậy và gói nội dung đã ký của Loa\n\nCách dùng: loa <lệnh> [tùy chọn] [đối số]   (loa <lệnh> --help để xem chi tiết)\nMã thoát: 0 thành công, 1 bị từ chối/lỗi, 2 sai cách dùng. LOA_LANG=en để hiện tiếng Anh.',
    en: 'loa — keys, trust policies and signed content bundles for Loa\n\nUsage: loa <command> [options] [args]   (loa <command> --help for details)\nExit codes: 0 success, 1 rejected/failed, 2 usage error. Messages are Vietnamese unless LOA_LANG=en.',
  });
  return [head, '', ...COMMANDS.map((c) => commandHelp(io, c)).flatMap((h) => [h, ''])].join('\n').trimEnd();
}

function findCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | undefined {
  for (const spec of COMMANDS) {
    const words = spec.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { spec, rest: argv.slice(words.length) };
  }
  return undefined;
}

function unknownCommand(io: Io, argv: string[]): UsageError {
  const words = argv.filter((a) => !a.startsWith('-'));
  const groups = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0] as string))];
  const typed = words.slice(0, 2).join(' ');
  let hint = closest(
    typed,
    COMMANDS.map((c) => c.name),
  );
  if (!hint && words[0] && groups.includes(words[0])) {
    const sub = COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `)).map((c) => c.name);
    hint = words[1] ? closest(`${words[0]} ${words[1]}`, sub) : undefined;
    if (!hint)
      return new UsageError(
        tr(io, {
          vi: `"${words[0]}" cần một lệnh con: ${sub.map((s) => s.split(' ')[1]).join(', ')}`,
          en: `"${words[0]}" needs a subcommand: ${sub.map((s) => s.split(' ')[1]).join(', ')}`,
        }),
      );
  }
  if (!hint && words[0]) hint = closest(words[0], [...groups, ...COMMANDS.map((c) => c.name)]);
  return new UsageError(
    tr(io, {
      vi: `lệnh không có: ${typed || argv.join(' ')}${hint ? ` (ý bạn là "loa ${hint}"?)` : ''}`,
      en: `unknown command: ${typed || argv.join(' ')}${hint ? ` (did you mean "loa ${hint}"?)` : ''}`,
    }),
  );
}

/** Formats a rejection: `REJECTED <CODE>: <message>` in the operator's language. */
export function rejectionLine(io: Io, e: VerifyError): string {
  if (io.lang === 'en') return `REJECTED ${e.code}: ${e.message}`;
  const generic = REASONS_VI[e.code];
  const detail = e.message !== REASONS[e.code] ? ` (${e.message})` : '';
  return `REJECTED ${e.code}: ${generic}${detail}`;
}

/** Runs the CLI and returns the exit code. Never calls process.exit. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  if (
    argv.length === 0 ||
    (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help'))
  ) {
    (argv.length === 0 ? io.err : io.out)(mainHelp(io));
    return argv.length === 0 ? EXIT.USAGE : EXIT.OK;
  }
  const found = findCommand(argv);
  if (!found && (argv.includes('--help') || argv.includes('-h'))) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
    if (group.length > 0) {
      io.out(group.map((c) => commandHelp(io, c)).join('\n\n'));
      return EXIT.OK;
    }
  }
  try {
    if (!found) throw unknownCommand(io, argv);
    const { values, positionals } = parseCommand(found.spec, found.rest, io);
    if (values.help) {
      io.out(commandHelp(io, found.spec));
      return EXIT.OK;
    }
    return await found.spec.run({ values, positionals, io });
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`loa: ${e.message}`);
      const spec = COMMANDS.find((c) => c.name === e.command);
      io.err(spec ? commandHelp(io, spec) : tr(io, { vi: 'Xem: loa --help', en: 'See: loa --help' }));
      return EXIT.USAGE;
    }
    if (e instanceof VerifyError || (isLoaError(e) && isReasonCode(e.code))) {
      io.out(rejectionLine(io, e as VerifyError));
      return EXIT.FAILED;
    }
    if (isLoaError(e)) {
      io.err(`${tr(io, { vi: 'LỖI', en: 'ERROR' })} ${e.code}: ${e.message}`);
      return EXIT.FAILED;
    }
    const err = e as NodeJS.ErrnoException;
    io.err(
      `${tr(io, { vi: 'LỖI', en: 'ERROR' })}${err.code ? ` ${err.code}` : ''}: ${err.message ?? String(e)}`,
    );
    return EXIT.FAILED;
  }
}
