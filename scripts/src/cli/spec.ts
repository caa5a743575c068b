import { parseArgs } from 'node:util';

/** Operator language: Vietnamese by default, English with LOA_LANG=en. */
export type Lang = 'vi' | 'en';
export type Text = { vi: string; en: string };

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  lang: Lang;
  /** The current time (for created/verification defaults). */
  now: () => Date;
  /** Working directory that relative paths resolve against. */
  cwd: string;
  /** Standard error is a terminal: long commands draw a progress bar there (absent: no). */
  isTty?: boolean;
  /** Writes to standard error without a newline (progress bar redraws). */
  errRaw?: (chunk: string) => void;
}

export function tr(io: Pick<Io, 'lang'>, text: Text): string {
  return text[io.lang];
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Placeholder in help, e.g. FILE. */
  value?: string;
  required?: boolean;
  help: Text;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface CommandSpec {
  /** Full name, e.g. "bundle verify". */
  name: string;
  summary: Text;
  /** Positional arguments, e.g. "DIR|FILE.tar". */
  args: string;
  minArgs: number;
  maxArgs: number;
  options: Record<string, OptionSpec>;
  examples: string[];
  run: (args: { values: Values; positionals: string[]; io: Io }) => Promise<number>;
}

/** A mistake in how the command was called: exit code 2 with a helpful message. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** Levenshtein distance, for "did you mean". */
export function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] as number;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] as number;
      prev[j] = Math.min(up + 1, (prev[j - 1] as number) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] as number;
}

/** The candidate closest to `word`, if it is close enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Parses argv for a command with node:util parseArgs; every mistake becomes a UsageError. */
export function parseCommand(
  spec: CommandSpec,
  argv: string[],
  io: Io,
): { values: Values; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [name, o] of Object.entries(spec.options))
    options[name] = {
      type: o.type,
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
    };
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    const err = e as Error & { code?: string };
    const m = /Unknown option '(-{1,2}[^']+)'/.exec(err.message);
    if (m) {
      const name = (m[1] as string).replace(/^-+/, '');
      const hint = closest(name, Object.keys(spec.options));
      throw new UsageError(
        tr(io, {
          vi: `tùy chọn không có: ${m[1]}${hint ? ` (ý bạn là --${hint}?)` : ''}`,
          en: `unknown option ${m[1]}${hint ? ` (did you mean --${hint}?)` : ''}`,
        }),
        spec.name,
      );
    }
    const missing = /Option '([^']+)' argument missing/.exec(err.message);
    if (missing)
      throw new UsageError(
        tr(io, { vi: `tùy chọn ${missing[1]} cần một giá trị`, en: `option ${missing[1]} needs a value` }),
        spec.name,
      );
    throw new UsageError(err.message, spec.name);
  }
  if (parsed.values.help) return parsed;
  for (const [name, o] of Object.entries(spec.options))
    if (o.required && parsed.values[name] === undefined)
      throw new UsageError(
        tr(io, {
          vi: `thiếu tùy chọn --${name} ${o.value ?? ''}`,
          en: `missing option --${name} ${o.value ?? ''}`,
        }).trim(),
        spec.name,
      );
  const n = parsed.positionals.length;
  if (n < spec.minArgs || n > spec.maxArgs)
    throw new UsageError(
      tr(io, {
        vi:
          n < spec.minArgs
            ? `thiếu đối số: ${spec.args}`
            : `thừa đối số: ${parsed.positionals.slice(spec.maxArgs).join(' ')}`,
        en:
          n < spec.minArgs
            ? `missing argument(s): ${spec.args}`
            : `too many arguments: ${parsed.positionals.slice(spec.maxArgs).join(' ')}`,
      }),
      spec.name,
    );
  return parsed;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function list(values: Values, name: string): string[] {
  const v = values[name];
  if (Array.isArray(v))
    return v
      .flatMap((x) => x.split(','))
      .map((x) => x.trim())
      .filter(Boolean);
  if (typeof v === 'string')
    return v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  return [];
}

/** Parses an ISO instant option, or throws a UsageError. */
export function instant(io: Io, values: Values, name: string, command: string): Date | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms))
    throw new UsageError(
      tr(io, {
        vi: `--${name} phải là thời điểm ISO 8601, ví dụ 2026-12-01T07:00:00+07:00 (nhận được "${v}")`,
        en: `--${name} must be an ISO 8601 instant, e.g. 2026-12-01T07:00:00+07:00 (got "${v}")`,
      }),
      command,
    );
  return new Date(ms);
}

/** Parses a positive integer option, or throws a UsageError. */
export function integer(io: Io, values: Values, name: string, command: string, min = 1): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v)))
    throw new UsageError(
      tr(io, {
        vi: `--${name} phải là số nguyên ≥ ${min} (nhận được "${v}")`,
        en: `--${name} must be an integer ≥ ${min} (got "${v}")`,
      }),
      command,
    );
  return Number(v);
}

/** `--root ROOT.key`: the province's root private key (trust commands that re-sign the policy). */
export const ROOT_KEY_OPTION: OptionSpec = {
  type: 'string',
  value: 'ROOT.key',
  required: true,
  help: { vi: 'khóa gốc (bí mật)', en: 'root private key' },
};

/** `--trust trust.json`: the trust policy file a command reads and rewrites. */
export const TRUST_FILE_OPTION: OptionSpec = {
  type: 'string',
  value: 'trust.json',
  required: true,
  help: { vi: 'tệp chính sách', en: 'policy file' },
};
