/**
 * Remote commands (play now, stop, volume, test tone, relay test, sync, reboot): checked before
 * anything runs — schema, target, validity window, signature under the trust policy with the
 * role from roleForCommand, and the id never seen before (seen ids persisted until they expire).
 * Every outcome is a CommandResult with a stable code.
 */
import {
  type Clock,
  type Command,
  type CommandResult,
  CommandSchema,
  checkRoleSignatures,
  isLoaError,
  LoaError,
  roleForCommand,
  type TrustPolicy,
  unitCovers,
} from '@loa/protocol';
import { writeJsonAtomic } from '@loa/protocol/fs';
import type { Logger } from 'pino';
import { z } from 'zod';
import { readJsonFile, SerialQueue } from '../system/data-dir.js';

type Params = NonNullable<Command['params']>;

/** What each action does on this station; main.ts wires them to the player and amplifier. */
export interface CommandExecutors {
  playNow(params: Params, cmd: Command): Promise<void>;
  stop(cmd: Command): Promise<void>;
  volume(volume: number, cmd: Command): Promise<void>;
  testTone(params: Params, cmd: Command): Promise<void>;
  relayTest(params: Params, cmd: Command): Promise<void>;
  sync(cmd: Command): Promise<void>;
  reboot(cmd: Command): Promise<void>;
  /** A noticeboard photographs its screen and uploads the picture. */
  screenshot(cmd: Command): Promise<void>;
}

export interface CommandHandlerOptions {
  /** Where seen command ids are kept until they expire. */
  file: string;
  trust: () => TrustPolicy | undefined;
  device: () => { deviceId: string; unit: string } | undefined;
  executors: CommandExecutors;
  clock: Clock;
  logger: Logger;
  /** Signer clock ahead of ours that is still accepted for `issued` (default 5 min). */
  skewMs?: number;
  /** Longest validity accepted, so the seen-id store stays small (default 24 h). */
  maxLifetimeMs?: number;
}

const SeenSchema = z.object({ ids: z.record(z.string(), z.number()) });

export class CommandHandler {
  private seen = new Map<string, number>();
  private readonly queue = new SerialQueue();
  private readonly log: Logger;
  constructor(private readonly o: CommandHandlerOptions) {
    this.log = o.logger.child({ module: 'commands' });
  }

  async start(): Promise<void> {
    const stored = await readJsonFile(this.o.file, SeenSchema).catch((err: unknown) => {
      this.log.error({ err }, 'seen command ids unreadable; starting empty');
      return undefined;
    });
    const now = this.o.clock.now();
    this.seen = new Map(Object.entries(stored?.ids ?? {}).filter(([, exp]) => exp > now));
  }

  async stop(): Promise<void> {
    await this.queue.run(async () => undefined);
  }

  /**
   * Checks and runs a command message. Returns its result, or undefined when the message is so
   * malformed that it has no id to answer to. Commands run one at a time.
   */
  handle(raw: unknown): Promise<CommandResult | undefined> {
    return this.queue.run(async () => {
      const at = () => new Date(this.o.clock.now()).toISOString();
      const parsed = CommandSchema.safeParse(raw);
      if (!parsed.success) {
        const id = (raw as { id?: unknown } | null)?.id;
        const uuid = z.uuid().safeParse(id);
        this.log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'malformed command refused');
        return uuid.success
          ? { id: uuid.data, ok: false, code: 'COMMAND_MALFORMED', message: 'Lệnh sai định dạng', at: at() }
          : undefined;
      }
      const cmd = parsed.data;
      try {
        await this.check(cmd);
      } catch (e) {
        const code = isLoaError(e) ? e.code : 'COMMAND_REFUSED';
        this.log.warn({ id: cmd.id, action: cmd.action, code, by: cmd.by }, 'command refused');
        return { id: cmd.id, ok: false, code, message: (e as Error).message.slice(0, 500), at: at() };
      }
      try {
        await this.run(cmd);
        this.log.info({ id: cmd.id, action: cmd.action, by: cmd.by }, 'command executed');
        return { id: cmd.id, ok: true, at: at() };
      } catch (e) {
        const code = isLoaError(e) ? e.code : 'COMMAND_FAILED';
        this.log.error({ id: cmd.id, action: cmd.action, code, err: e }, 'command failed');
        return { id: cmd.id, ok: false, code, message: (e as Error).message.slice(0, 500), at: at() };
      }
    });
  }

  private async check(cmd: Command): Promise<void> {
    const now = this.o.clock.now();
    if (this.seen.has(cmd.id))
      throw new LoaError('COMMAND_REPLAYED', 'Lệnh này đã được thực hiện (phát lại)');
    const device = this.o.device();
    if (!device) throw new LoaError('NOT_ENROLLED', 'Trạm chưa đăng ký nên chưa nhận lệnh');
    const t = cmd.target;
    if ('device' in t ? t.device !== device.deviceId : !unitCovers(t.unit, device.unit))
      throw new LoaError('TARGET_MISMATCH', 'Lệnh không gửi cho trạm này');
    const expires = Date.parse(cmd.expires);
    if (expires <= now) throw new LoaError('EXPIRED', `Lệnh đã hết hạn lúc ${cmd.expires}`);
    if (Date.parse(cmd.issued) > now + (this.o.skewMs ?? 5 * 60_000))
      throw new LoaError('NOT_YET_VALID', `Lệnh phát hành lúc ${cmd.issued}, trong tương lai`);
    if (expires - now > (this.o.maxLifetimeMs ?? 86_400_000))
      throw new LoaError('EXPIRY_TOO_FAR', 'Thời hạn của lệnh quá dài');
    const role = roleForCommand(cmd.action);
    if (role) {
      const trust = this.o.trust();
      if (!trust) throw new LoaError('TRUST_MISSING', 'Trạm chưa có chính sách tin cậy');
      if (cmd.signatures.length === 0) throw new LoaError('UNSIGNED', 'Lệnh phát âm thanh phải được ký');
      checkRoleSignatures(cmd, trust, [role], [t.unit]);
    }
    // Remember the id before running it: a crash mid-action must not let it run twice.
    this.seen.set(cmd.id, expires);
    for (const [id, exp] of this.seen) if (exp <= now) this.seen.delete(id);
    await writeJsonAtomic(this.o.file, { ids: Object.fromEntries(this.seen) }, 0o600);
  }

  private run(cmd: Command): Promise<void> {
    const p = cmd.params ?? {};
    const x = this.o.executors;
    switch (cmd.action) {
      case 'play-now':
        if (!p.itemId) throw new LoaError('PARAM_MISSING', 'Thiếu itemId cho lệnh phát ngay');
        return x.playNow(p, cmd);
      case 'stop':
        return x.stop(cmd);
      case 'volume':
        if (p.volume === undefined) throw new LoaError('PARAM_MISSING', 'Thiếu mức âm lượng');
        return x.volume(p.volume, cmd);
      case 'test-tone':
        return x.testTone(p, cmd);
      case 'relay-test':
        return x.relayTest(p, cmd);
      case 'sync':
        return x.sync(cmd);
      case 'reboot':
        return x.reboot(cmd);
      case 'screenshot':
        return x.screenshot(cmd);
    }
  }
}
