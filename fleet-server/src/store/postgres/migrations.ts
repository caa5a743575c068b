/**
 * Versioned schema migrations, applied in order at start under a session advisory lock (several
 * fleet-server processes starting together apply each migration once). Each migration runs in
 * its own transaction and is recorded in `schema_migrations`; a database newer than this code
 * (a version it does not know) is refused rather than written to. Add a migration at the end,
 * never edit an applied one.
 */
import { LoaError } from '@loa/protocol';
import { field, jsonTableSql } from './collection.js';
import { dayStreamSql } from './day-stream.js';
import type { Db } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Key of the advisory lock held while migrating ("loa-migr"). */
const MIGRATION_LOCK = 0x6c6f615f6d696772n;

const unitRef = (table: string, column: string) =>
  `CONSTRAINT ${table}_${column}__unit REFERENCES units (id) DEFERRABLE INITIALLY DEFERRED`;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'registry and streams',
    sql: [
      // registry: one jsonb record per row, constraints on columns generated from it
      jsonTableSql(
        'units',
        [field('parent', 'parent', unitRef('units', 'parent'))],
        [
          'CREATE INDEX units_id_prefix ON units (id text_pattern_ops);',
          'CREATE INDEX units_parent ON units (parent);',
        ],
      ),
      jsonTableSql(
        'groups',
        [field('unit', 'unit', `NOT NULL ${unitRef('groups', 'unit')}`)],
        ['CREATE INDEX groups_unit ON groups (unit);'],
      ),
      jsonTableSql(
        'zones',
        [field('unit', 'unit', `NOT NULL ${unitRef('zones', 'unit')}`)],
        ['CREATE INDEX zones_unit ON zones (unit);'],
      ),
      jsonTableSql(
        'devices',
        [
          field('unit', 'unit', `NOT NULL ${unitRef('devices', 'unit')}`),
          field('key_id', 'keyId', 'NOT NULL CONSTRAINT devices_key_id_unique UNIQUE'),
          field('status', 'status', 'NOT NULL'),
        ],
        ['CREATE INDEX devices_unit ON devices (unit text_pattern_ops);'],
      ),
      jsonTableSql('users', [
        "username text GENERATED ALWAYS AS (lower(data->>'username')) STORED NOT NULL CONSTRAINT users_username_unique UNIQUE",
      ]),
      jsonTableSql(
        'sessions',
        [
          field(
            'user_id',
            'userId',
            'NOT NULL CONSTRAINT sessions_user_id__user REFERENCES users (id) ON DELETE CASCADE',
          ),
          field('expires_at', 'expiresAt', 'NOT NULL'),
        ],
        [
          'CREATE INDEX sessions_user ON sessions (user_id);',
          'CREATE INDEX sessions_expiry ON sessions (expires_at);',
        ],
      ),
      jsonTableSql('api_tokens', [
        field('hash', 'hash', 'NOT NULL CONSTRAINT api_tokens_hash_unique UNIQUE'),
      ]),
      jsonTableSql('enrolment_tokens', [
        field('hash', 'hash', 'NOT NULL CONSTRAINT enrolment_tokens_hash_unique UNIQUE'),
        field('unit', 'unit', `NOT NULL ${unitRef('enrolment_tokens', 'unit')}`),
      ]),
      jsonTableSql('signing_keys'),
      jsonTableSql('content'),
      jsonTableSql(
        'bundles',
        [
          field('channel', 'channel', 'NOT NULL'),
          "version integer GENERATED ALWAYS AS ((data->>'version')::integer) STORED NOT NULL",
        ],
        ['CREATE INDEX bundles_channel ON bundles (channel, version);'],
      ),
      jsonTableSql(
        'rollouts',
        [field('bundle_id', 'bundleId', 'NOT NULL'), field('device_id', 'deviceId', 'NOT NULL')],
        [
          'CREATE INDEX rollouts_bundle ON rollouts (bundle_id);',
          'CREATE INDEX rollouts_device ON rollouts (device_id);',
        ],
      ),
      jsonTableSql('alerts'),
      `CREATE TABLE trust_policies (
  version integer PRIMARY KEY,
  data jsonb NOT NULL
);`,
      // streams: partitioned by day, latest state beside them
      dayStreamSql(
        'health',
        'received_at',
        [
          'id bigint GENERATED ALWAYS AS IDENTITY',
          'device_id text NOT NULL',
          'received_at timestamptz NOT NULL',
          'data jsonb NOT NULL',
        ],
        ['(device_id, received_at)', '(received_at)'],
      ),
      `CREATE TABLE health_latest (
  device_id text PRIMARY KEY,
  received_at timestamptz NOT NULL,
  data jsonb NOT NULL
);`,
      dayStreamSql(
        'proofs',
        'received_at',
        [
          'id bigint GENERATED ALWAYS AS IDENTITY',
          'device_id text NOT NULL',
          'received_at timestamptz NOT NULL',
          'bundle_id text',
          'seq bigint NOT NULL',
          'hash text NOT NULL',
          'data jsonb NOT NULL',
        ],
        ['(device_id, received_at)', '(bundle_id, received_at)', '(received_at)'],
      ),
      `CREATE TABLE proof_last (
  device_id text PRIMARY KEY,
  seq bigint NOT NULL,
  hash text NOT NULL,
  event_id text NOT NULL
);`,
      'CREATE SEQUENCE audit_seq;',
      dayStreamSql(
        'audit',
        'at',
        [
          'seq bigint NOT NULL',
          'at timestamptz NOT NULL',
          'actor_id text NOT NULL',
          'action text NOT NULL',
          'unit text',
          'data jsonb NOT NULL',
        ],
        ['(seq)', '(actor_id, seq)', '(unit text_pattern_ops, seq)'],
      ),
      `CREATE TABLE stream_retention (
  stream text PRIMARY KEY,
  last_run_at timestamptz NOT NULL
);`,
    ].join('\n'),
  },
  {
    version: 2,
    name: 'webhooks',
    sql: jsonTableSql('webhooks'),
  },
  {
    version: 3,
    name: 'citizens: feedback, ratings, push subscriptions',
    sql: [
      jsonTableSql(
        'feedback',
        [field('unit', 'unit', `NOT NULL ${unitRef('feedback', 'unit')}`)],
        ['CREATE INDEX feedback_unit ON feedback (unit text_pattern_ops);'],
      ),
      jsonTableSql(
        'ratings',
        [
          field('unit', 'unit', `NOT NULL ${unitRef('ratings', 'unit')}`),
          field('content_id', 'contentId', 'NOT NULL'),
        ],
        ['CREATE INDEX ratings_content ON ratings (content_id);'],
      ),
      jsonTableSql(
        'push_subscriptions',
        [field('unit', 'unit', `NOT NULL ${unitRef('push_subscriptions', 'unit')}`)],
        ['CREATE INDEX push_subscriptions_unit ON push_subscriptions (unit);'],
      ),
    ].join('\n'),
  },
  {
    version: 4,
    name: 'reports: station register, periodic reports, presence stream',
    sql: [
      jsonTableSql(
        'register',
        [field('unit', 'unit', `NOT NULL ${unitRef('register', 'unit')}`)],
        ['CREATE INDEX register_unit ON register (unit text_pattern_ops);'],
      ),
      jsonTableSql(
        'periodic_reports',
        [field('unit', 'unit', `NOT NULL ${unitRef('periodic_reports', 'unit')}`)],
        ['CREATE INDEX periodic_reports_unit ON periodic_reports (unit text_pattern_ops);'],
      ),
      dayStreamSql(
        'presence',
        'at',
        [
          'id bigint GENERATED ALWAYS AS IDENTITY',
          'device_id text',
          'at timestamptz NOT NULL',
          'event text NOT NULL',
          'data jsonb NOT NULL',
        ],
        ['(at)', '(device_id, at)'],
      ),
    ].join('\n'),
  },
  {
    version: 5,
    name: 'pronunciation lexicon',
    sql: jsonTableSql(
      'lexicon',
      [
        field('unit', 'unit', `NOT NULL ${unitRef('lexicon', 'unit')}`),
        // one entry per unit, language and written form (domain/lexicon.ts lexiconKey)
        field('key', 'key', 'NOT NULL CONSTRAINT lexicon_key_unique UNIQUE'),
      ],
      ['CREATE INDEX lexicon_unit ON lexicon (unit text_pattern_ops);'],
    ),
  },
  {
    version: 6,
    name: 'staff and training register, document library',
    sql: [
      jsonTableSql(
        'staff',
        [field('unit', 'unit', `NOT NULL ${unitRef('staff', 'unit')}`)],
        ['CREATE INDEX staff_unit ON staff (unit text_pattern_ops);'],
      ),
      jsonTableSql(
        'training_courses',
        [field('unit', 'unit', `NOT NULL ${unitRef('training_courses', 'unit')}`)],
        ['CREATE INDEX training_courses_unit ON training_courses (unit text_pattern_ops);'],
      ),
      jsonTableSql(
        'training_attendance',
        [
          field('unit', 'unit', `NOT NULL ${unitRef('training_attendance', 'unit')}`),
          field('course_id', 'courseId', 'NOT NULL'),
          field('staff_id', 'staffId', 'NOT NULL'),
        ],
        [
          'CREATE INDEX training_attendance_unit ON training_attendance (unit text_pattern_ops);',
          'CREATE INDEX training_attendance_course ON training_attendance (course_id);',
          'CREATE INDEX training_attendance_staff ON training_attendance (staff_id);',
        ],
      ),
      jsonTableSql(
        'documents',
        [field('unit', 'unit', `NOT NULL ${unitRef('documents', 'unit')}`)],
        ['CREATE INDEX documents_unit ON documents (unit text_pattern_ops);'],
      ),
    ].join('\n'),
  },
  {
    version: 7,
    name: 'programme choices per unit',
    sql: jsonTableSql('choices', [field('unit', 'unit', `NOT NULL ${unitRef('choices', 'unit')}`)]),
  },
  {
    version: 8,
    name: 'report rollups',
    // the parts' JSON is kept as text: its key order is part of what a report adds up in order
    sql: `CREATE TABLE report_rollups (
  kind text NOT NULL,
  key text NOT NULL,
  part text NOT NULL,
  data text NOT NULL,
  PRIMARY KEY (kind, key, part)
);`,
  },
];

/** Applies the migrations the database lacks; returns the versions applied. */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const c = await db.pool.connect();
  const applied: number[] = [];
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`);
      const r = await c.query<{ version: number }>('SELECT version FROM schema_migrations');
      const have = new Set(r.rows.map((x) => x.version));
      const known = new Set(migrations.map((m) => m.version));
      const unknown = [...have].filter((v) => !known.has(v));
      if (unknown.length > 0)
        throw new LoaError(
          'STORE_SCHEMA_NEWER',
          `cơ sở dữ liệu có lược đồ mới hơn phần mềm này (phiên bản ${unknown.join(', ')}): hãy cập nhật phần mềm`,
        );
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (have.has(m.version)) continue;
        await c.query('BEGIN');
        try {
          await c.query(m.sql);
          await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await c.query('COMMIT');
          applied.push(m.version);
        } catch (e) {
          await c.query('ROLLBACK').catch(() => {});
          throw new LoaError('STORE_MIGRATION_FAILED', `migration ${m.version} (${m.name}) failed`, {
            cause: e,
          });
        }
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => {});
    }
  } finally {
    c.release();
  }
  return applied;
}
