/**
 * Device commands (play-now, stop, volume, test-tone, relay-test, sync, reboot) to one device or a
 * unit subtree. Sound-making commands are signed with the operator's server-held key (role
 * `command` in the trust policy, scope covering the target); a station refuses anything else, so
 * the server refuses it first with a clear reason. Every command is audited with its signed body,
 * and every result a station reports (cmd-result) is appended to the audit log too, so
 * `GET /commands/:id` answers after a restart as well (recent commands are also kept in memory).
 */
import { randomUUID } from 'node:crypto';
import {
  CommandActionSchema,
  type CommandBody,
  CommandParamsSchema,
  type CommandResult,
  CommandResultSchema,
  CommandSchema,
  deviceTopic,
  LoaError,
  roleForCommand,
  unitCovers,
  unitTopic,
} from '@loa/protocol';
import { z } from 'zod';
import { inScope, requireScope } from '../../domain/rbac.js';
import type { ContentServices } from '../../services/content-services.js';
import type { AuthUser } from '../auth.js';
import type { RouteContext } from '../route-context.js';
import { UNIT_PARAM } from './units.js';

/** A command as sent, with the results the stations reported (by device). */
const CommandStatusSchema = z.object({
  command: CommandSchema,
  results: z.array(z.object({ deviceId: z.string(), ...CommandResultSchema.shape }).loose()),
});

export const CommandRequestSchema = z
  .strictObject({
    action: CommandActionSchema,
    params: CommandParamsSchema.optional(),
    /** Validity in seconds (default 300, at most 3600). */
    expiresInSeconds: z.number().int().min(10).max(3600).default(300),
  })
  .superRefine((c, ctx) => {
    if (c.action === 'play-now' && !(c.params?.channel && c.params.itemId))
      ctx.addIssue({ code: 'custom', path: ['params'], message: 'play-now cần channel và itemId' });
    if (c.action === 'volume' && c.params?.volume === undefined)
      ctx.addIssue({ code: 'custom', path: ['params', 'volume'], message: 'volume cần mức âm lượng 0–100' });
  });

interface Tracked {
  command: CommandBody & { signatures: { keyid: string; sig: string }[] };
  results: Map<string, CommandResult>;
}

const MAX_TRACKED = 2000;
/** How far back the audit log is searched for a command no longer in memory. */
const LOOKBACK_MS = 30 * 86_400_000;

/** What signing a command takes: the user's server-held key and the trust policy's delegations. */
export type CommandSigning = Pick<ContentServices, 'signer' | 'trust'>;

export function registerCommandRoutes({ api, deps }: RouteContext, signing: CommandSigning): void {
  const tracked = new Map<string, Tracked>();
  const remember = (t: Tracked) => {
    tracked.set(t.command.id, t);
    if (tracked.size > MAX_TRACKED) tracked.delete(tracked.keys().next().value as string);
  };

  // ids looked up in the audit log and not found: a station sending made-up ids must not make the
  // server scan its audit log again and again (bounded, oldest forgotten first)
  const unknown = new Set<string>();
  const loading = new Map<string, Promise<Tracked | undefined>>();

  /** A command from memory, or rebuilt from the audit log (its signed body, then its results). */
  function load(id: string): Promise<Tracked | undefined> {
    const t = tracked.get(id);
    if (t) return Promise.resolve(t);
    if (unknown.has(id)) return Promise.resolve(undefined);
    let p = loading.get(id);
    if (!p) {
      p = rebuild(id).finally(() => loading.delete(id));
      loading.set(id, p);
    }
    return p;
  }

  async function rebuild(id: string): Promise<Tracked | undefined> {
    const since = new Date(deps.clock.now() - LOOKBACK_MS).toISOString();
    const sent = (await deps.store.audit.query({ action: 'command.send', since, limit: 1_000_000 })).find(
      (e) => e.details?.commandId === id,
    );
    const parsed = CommandSchema.safeParse(sent?.details?.command);
    if (!parsed.success) {
      unknown.add(id);
      if (unknown.size > 10_000) unknown.delete(unknown.values().next().value as string);
      return undefined;
    }
    const results = new Map<string, CommandResult>();
    const entries = await deps.store.audit.query({
      action: 'command.result',
      since: parsed.data.issued,
      limit: 1_000_000,
    });
    // newest first: the first result seen per device is its latest
    for (const e of entries) {
      if (e.target?.id !== id || results.has(e.actor.id)) continue;
      const r = CommandResultSchema.safeParse(e.details?.result);
      if (r.success) results.set(e.actor.id, r.data);
    }
    const rebuilt = { command: parsed.data as Tracked['command'], results };
    remember(rebuilt);
    return rebuilt;
  }

  deps.broker.onDeviceMessage((m) => {
    if (m.kind !== 'cmd-result') return;
    const result = m.payload;
    void (async () => {
      const t = await load(result.id);
      if (!t) return;
      const target = t.command.target;
      // a device may only answer commands addressed to it
      const addressed = 'device' in target ? target.device === m.deviceId : true;
      if (!addressed || t.results.size >= 20_000) return;
      t.results.set(m.deviceId, result);
      await deps.store.audit.append({
        actor: { type: 'device', id: m.deviceId },
        action: 'command.result',
        target: { type: 'command', id: result.id },
        unit: target.unit,
        details: { result },
      });
    })().catch((err) => deps.logger.warn({ err, deviceId: m.deviceId }, 'command result not recorded'));
  });

  async function send(
    user: AuthUser,
    body: z.output<typeof CommandRequestSchema>,
    target: CommandBody['target'],
  ) {
    const now = deps.clock.now();
    const cmd: CommandBody = {
      type: 'loa-command',
      format: 1,
      id: randomUUID(),
      action: body.action,
      issued: new Date(now).toISOString(),
      expires: new Date(now + body.expiresInSeconds * 1000).toISOString(),
      target,
      ...(body.params ? { params: body.params } : {}),
      by: user.username,
    };
    const signed = await signCommand(signing, user, cmd);
    const topic = 'device' in target ? deviceTopic(target.device, 'cmd') : unitTopic(target.unit, 'cmd');
    remember({ command: signed, results: new Map() });
    await deps.broker.publish(topic, signed, { qos: 1 });
    return signed;
  }

  api.add({
    method: 'post',
    path: '/devices/:id/commands',
    summary: 'Send a command to one device (signed with my server-held key when it can make a sound)',
    tags: ['commands'],
    permission: 'device.command',
    status: 202,
    body: CommandRequestSchema,
    response: z.object({ command: CommandSchema }),
    errors: [409, 422],
    handler: async ({ user, params, body, audit }) => {
      const d = await deps.store.devices.get(params.id);
      if (!d || !inScope(user, d.unit))
        throw new LoaError('DEVICE_NOT_FOUND', `không tìm thấy thiết bị ${params.id}`);
      if (d.status !== 'active')
        throw new LoaError('DEVICE_CONFLICT', `thiết bị đang ở trạng thái ${d.status}`);
      const cmd = await send(user, body, { device: d.id, unit: d.unit });
      await audit(
        'command.send',
        { type: 'device', id: d.id },
        { commandId: cmd.id, action: cmd.action, params: cmd.params, command: cmd },
        d.unit,
      );
      return { command: cmd };
    },
  });

  api.add({
    method: 'post',
    path: `/units/${UNIT_PARAM}/commands`,
    summary: 'Send a command to every device of a unit subtree',
    tags: ['commands'],
    permission: 'device.command',
    status: 202,
    body: CommandRequestSchema,
    response: z.object({ command: CommandSchema }),
    errors: [422],
    handler: async ({ user, params, body, audit }) => {
      const unit = params.path;
      requireScope(user, unit);
      if (!(await deps.store.units.get(unit)))
        throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${unit}`);
      const cmd = await send(user, body, { unit });
      await audit(
        'command.send',
        { type: 'unit', id: unit },
        { commandId: cmd.id, action: cmd.action, params: cmd.params, command: cmd },
        unit,
      );
      return { command: cmd };
    },
  });

  api.add({
    method: 'get',
    path: '/commands/:id',
    summary: 'A command (of the last 30 days) with the results stations reported',
    tags: ['commands'],
    permission: 'read',
    response: CommandStatusSchema,
    handler: async ({ user, params }) => {
      const t = await load(params.id);
      if (!t || !inScope(user, t.command.target.unit))
        throw new LoaError('COMMAND_NOT_FOUND', 'không tìm thấy lệnh (trong 30 ngày qua)');
      return {
        command: t.command,
        results: [...t.results].map(([deviceId, r]) => ({ deviceId, ...r })),
      };
    },
  });
}

/** Signs a command that needs the `command` role; checks the delegation first (same rule as stations). */
async function signCommand(
  content: CommandSigning,
  user: AuthUser,
  cmd: CommandBody,
): Promise<CommandBody & { signatures: { keyid: string; sig: string }[] }> {
  if (roleForCommand(cmd.action) === null) return { ...cmd, signatures: [] };
  const rec = await content.signer.active(user.id);
  if (!rec)
    throw new LoaError(
      'SIGNING_KEY_NOT_FOUND',
      'Bạn chưa có khóa ký trên máy chủ: hãy tạo khóa và nhờ tỉnh ủy quyền',
    );
  const delegation = content.trust.delegation(rec.keyid);
  if (!delegation?.roles.includes('command'))
    throw new LoaError(
      'ROLE_NOT_AUTHORISED',
      'khóa của bạn chưa được tỉnh ủy quyền gửi lệnh (vai trò command)',
    );
  if (!delegation.scope.some((s) => unitCovers(s, cmd.target.unit)))
    throw new LoaError('SCOPE_NOT_COVERED', `khóa của bạn không được ủy quyền cho đơn vị ${cmd.target.unit}`);
  const { doc } = await content.signer.sign(user.id, cmd);
  return doc;
}
