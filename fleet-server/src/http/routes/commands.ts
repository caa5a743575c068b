/**
 * Device commands (play-now, stop, volume, test-tone, relay-test, sync, reboot) to one device or a
 * unit subtree. Sound-making commands are signed with the operator's server-held key (role
 * `command` in the trust policy, scope covering the target); a station refuses anything else, so
 * the server refuses it first with a clear reason. Every command is audited; results reported by
 * stations (cmd-result) are kept in memory per command id.
 */
import { randomUUID } from 'node:crypto';
import {
  CommandActionSchema,
  type CommandBody,
  type CommandResult,
  deviceTopic,
  IdSchema,
  LoaError,
  roleForCommand,
  unitCovers,
  unitTopic,
} from '@loa/protocol';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { inScope, requireScope } from '../../domain/rbac.js';
import type { RouteContext } from '../app.js';
import type { AuthUser } from '../auth.js';
import { UNIT_PARAM } from './units.js';

export const CommandRequestSchema = z
  .strictObject({
    action: CommandActionSchema,
    params: z
      .strictObject({
        channel: z.string().max(64).optional(),
        itemId: IdSchema.optional(),
        volume: z.number().int().min(0).max(100).optional(),
        seconds: z.number().int().min(1).max(120).optional(),
        frequencyHz: z.number().int().min(50).max(8000).optional(),
        zone: IdSchema.optional(),
      })
      .optional(),
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

export function registerCommandRoutes({ api, deps }: RouteContext): void {
  const tracked = new Map<string, Tracked>();
  deps.broker.onDeviceMessage((m) => {
    if (m.kind !== 'cmd-result') return;
    const t = tracked.get(m.payload.id);
    if (!t) return;
    const target = t.command.target;
    // a device may only answer commands addressed to it
    const d = 'device' in target ? target.device === m.deviceId : true;
    if (d && t.results.size < 20_000) t.results.set(m.deviceId, m.payload);
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
    const signed = await signCommand(deps, user, cmd);
    const topic = 'device' in target ? deviceTopic(target.device, 'cmd') : unitTopic(target.unit, 'cmd');
    await deps.broker.publish(topic, signed, { qos: 1 });
    tracked.set(cmd.id, { command: signed, results: new Map() });
    if (tracked.size > MAX_TRACKED) tracked.delete(tracked.keys().next().value as string);
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
    handler: async ({ user, params, body, audit }) => {
      const d = await deps.store.devices.get(params.id as string);
      if (!d || !inScope(user, d.unit))
        throw new LoaError('DEVICE_NOT_FOUND', `không tìm thấy thiết bị ${params.id}`);
      if (d.status !== 'active')
        throw new LoaError('DEVICE_CONFLICT', `thiết bị đang ở trạng thái ${d.status}`);
      const cmd = await send(user, body, { device: d.id, unit: d.unit });
      await audit(
        'command.send',
        { type: 'device', id: d.id },
        { commandId: cmd.id, action: cmd.action, params: cmd.params },
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
    handler: async ({ user, params, body, audit }) => {
      const unit = params.path as string;
      requireScope(user, unit);
      if (!(await deps.store.units.get(unit)))
        throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${unit}`);
      const cmd = await send(user, body, { unit });
      await audit(
        'command.send',
        { type: 'unit', id: unit },
        { commandId: cmd.id, action: cmd.action, params: cmd.params },
        unit,
      );
      return { command: cmd };
    },
  });

  api.add({
    method: 'get',
    path: '/commands/:id',
    summary: 'A command sent since the server started, with the results stations reported',
    tags: ['commands'],
    permission: 'read',
    handler: ({ user, params }) => {
      const t = tracked.get(params.id as string);
      if (!t || !inScope(user, t.command.target.unit))
        throw new LoaError(
          'COMMAND_NOT_FOUND',
          'không tìm thấy lệnh (lệnh cũ hơn lần khởi động máy chủ không được giữ)',
        );
      return {
        command: t.command,
        results: [...t.results].map(([deviceId, r]) => ({ deviceId, ...r })),
      };
    },
  });
}

/** Signs a command that needs the `command` role; checks the delegation first (same rule as stations). */
async function signCommand(
  deps: Deps,
  user: AuthUser,
  cmd: CommandBody,
): Promise<CommandBody & { signatures: { keyid: string; sig: string }[] }> {
  if (roleForCommand(cmd.action) === null) return { ...cmd, signatures: [] };
  const content = deps.services.content;
  if (!content) throw new LoaError('SIGNER_UNAVAILABLE', 'máy chủ chưa bật dịch vụ ký nội dung');
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
