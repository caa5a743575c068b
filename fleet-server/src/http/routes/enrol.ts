/**
 * Enrolment: technicians create one-time tokens bound to a unit; a device posts the token, its
 * Ed25519 public key and hardware facts to POST /api/v1/enrol and receives its id, MQTT
 * credentials (random; scrypt-hashed at rest), the trust policy and the endpoints.
 */
import { randomUUID } from 'node:crypto';
import { keyId, LoaError, publicKeyFromRaw } from '@loa/protocol';
import { z } from 'zod';
import {
  checkEnrolmentToken,
  EnrolRequestSchema,
  EnrolResponseSchema,
  EnrolTokenCreateSchema,
  proposeDeviceId,
} from '../../domain/enrolment.js';
import type { DeviceRecord, EnrolmentTokenRecord } from '../../domain/model.js';
import { ALL_UNITS, inScope, requireScope } from '../../domain/rbac.js';
import { DEVICE_SCRYPT, hashSecret, randomToken, sha256Hex } from '../../security/secrets.js';
import type { RouteContext } from '../route-context.js';
import { OkSchema, PublicEnrolmentTokenSchema } from '../schemas.js';

export const ENROL_TOKEN_PREFIX = 'loaenr_';

export function registerEnrolRoutes({ api, deps }: RouteContext): void {
  const { store, clock, config } = deps;
  const iso = (ms = clock.now()) => new Date(ms).toISOString();
  const endpoints = () => {
    const api = (config.publicUrl ?? `http://${config.host}:${config.httpPort}`).replace(/\/$/, '');
    return {
      api: `${api}/api/v1`,
      blobs: `${api}/blobs`,
      mqttWs: `${api.replace(/^http/, 'ws')}/mqtt`,
      mqtt: config.mqttPublicUrl ?? `mqtt://${config.host}:${config.mqttPort}`,
    };
  };

  api.add({
    method: 'post',
    path: '/enrol',
    summary: 'A device enrols with a one-time token',
    description:
      'Refusals: 401 ENROL_TOKEN_INVALID, 403 ENROL_TOKEN_EXPIRED/USED/REVOKED, 409 DEVICE_KEY_IN_USE; nothing is written.',
    tags: ['enrolment'],
    auth: 'public',
    body: EnrolRequestSchema,
    status: 201,
    response: EnrolResponseSchema,
    errors: [409],
    handler: async ({ body, ip }) => {
      try {
        publicKeyFromRaw(body.publicKey);
      } catch (cause) {
        throw new LoaError('VALIDATION_FAILED', 'khóa công khai không phải khóa Ed25519 hợp lệ', { cause });
      }
      const kid = keyId(Buffer.from(body.publicKey, 'base64'));
      const hash = sha256Hex(body.token);
      // check everything before writing: a refused enrolment leaves no trace but the audit entry
      const token = checkEnrolmentToken(await store.enrolmentTokens.byHash(hash), clock.now());
      if (!(await store.units.get(token.unit)))
        throw new LoaError('UNIT_NOT_FOUND', `đơn vị ${token.unit} không còn`);
      const existing = await store.devices.byKeyId(kid);
      if (existing)
        throw new LoaError('DEVICE_KEY_IN_USE', `khóa này đã được đăng ký cho thiết bị ${existing.id}`);
      let deviceId = body.deviceId ?? proposeDeviceId(token.unit, kid);
      if (await store.devices.get(deviceId)) deviceId = proposeDeviceId(token.unit, kid);
      if (await store.devices.get(deviceId))
        throw new LoaError('DEVICE_EXISTS', `mã thiết bị ${deviceId} đã có`);
      const password = randomToken(32);
      const passwordHash = await hashSecret(password, DEVICE_SCRYPT);
      await store.enrolmentTokens.consume(hash, iso());
      const now = iso();
      const status = token.requireApproval ? ('pending' as const) : ('active' as const);
      const device: DeviceRecord = {
        id: deviceId,
        unit: token.unit,
        kind: token.kind,
        name: body.name || deviceId,
        status,
        publicKey: body.publicKey,
        keyId: kid,
        mqttPasswordHash: passwordHash,
        groups: token.groups,
        hardware: body.hardware,
        enrolmentTokenId: token.id,
        enrolledAt: now,
        updatedAt: now,
      };
      await store.devices.insert(device);
      // the device forgets its token once answered: its record must be on disk before the answer
      await store.flush();
      await store.audit.append({
        actor: { type: 'device', id: deviceId },
        action: 'device.enrol',
        target: { type: 'device', id: deviceId },
        unit: token.unit,
        ip,
        details: { tokenId: token.id, keyId: kid, status: device.status },
      });
      const trust = await store.trust.current();
      const ep = endpoints();
      return {
        deviceId,
        unit: token.unit,
        status,
        mqtt: { url: ep.mqtt, username: deviceId, password, clientId: deviceId },
        trust: trust?.policy ?? null,
        endpoints: { api: ep.api, blobs: ep.blobs, mqttWs: ep.mqttWs },
      };
    },
  });

  api.add({
    method: 'get',
    path: '/enrol-tokens',
    summary: 'Enrolment tokens of units in my scope (without secrets)',
    tags: ['enrolment'],
    permission: 'enrol.manage',
    response: z.array(PublicEnrolmentTokenSchema),
    handler: async ({ user }) =>
      (await store.enrolmentTokens.list((t) => inScope(user, t.unit))).map(({ hash: _h, ...t }) => ({
        ...t,
        usable: !t.revokedAt && Date.parse(t.expiresAt) > clock.now() && t.uses < t.maxUses,
      })),
  });

  api.add({
    method: 'post',
    path: '/enrol-tokens',
    summary: 'Create a one-time enrolment token for a unit; the secret is shown once',
    tags: ['enrolment'],
    permission: 'enrol.manage',
    status: 201,
    body: EnrolTokenCreateSchema,
    response: z.object({ token: z.string(), record: PublicEnrolmentTokenSchema, enrolUrl: z.string() }),
    handler: async ({ body, user, audit }) => {
      if (!user.scope.includes(ALL_UNITS)) requireScope(user, body.unit);
      if (!(await store.units.get(body.unit)))
        throw new LoaError('UNIT_NOT_FOUND', `không có đơn vị ${body.unit}`);
      const token = `${ENROL_TOKEN_PREFIX}${randomToken(24)}`;
      const rec: EnrolmentTokenRecord = {
        id: randomUUID(),
        hash: sha256Hex(token),
        unit: body.unit,
        kind: body.kind,
        groups: body.groups,
        maxUses: body.maxUses,
        uses: 0,
        expiresAt: iso(clock.now() + body.ttlHours * 3600_000),
        requireApproval: body.requireApproval ?? config.enrolmentApprovalDefault,
        ...(body.note ? { note: body.note } : {}),
        createdBy: user.username,
        createdAt: iso(),
      };
      await store.enrolmentTokens.insert(rec);
      await store.flush();
      await audit(
        'enrol-token.create',
        { type: 'enrol-token', id: rec.id },
        { maxUses: rec.maxUses, expiresAt: rec.expiresAt },
        rec.unit,
      );
      const { hash: _h, ...pub } = rec;
      return { token, record: pub, enrolUrl: `${endpoints().api}/enrol` };
    },
  });

  api.add({
    method: 'delete',
    path: '/enrol-tokens/:id',
    summary: 'Revoke an enrolment token',
    tags: ['enrolment'],
    permission: 'enrol.manage',
    response: OkSchema,
    handler: async ({ user, params, audit }) => {
      const t = await store.enrolmentTokens.get(params.id);
      if (!t || !inScope(user, t.unit))
        throw new LoaError('ENROL_TOKEN_NOT_FOUND', 'không tìm thấy mã đăng ký');
      await store.enrolmentTokens.update(t.id, { revokedAt: iso() });
      await audit('enrol-token.revoke', { type: 'enrol-token', id: t.id }, undefined, t.unit);
      return { ok: true };
    },
  });
}
