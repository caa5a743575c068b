/**
 * Node-RED settings for `npm run flows` (flows/bin/run-flows.js passes the values through the
 * environment): editor and HTTP nodes on 127.0.0.1 by default, credentials encrypted with
 * LOA_FLOWS_SECRET, this palette (found as the npm workspace node-red-contrib-loa), a "file" context store for state that
 * must survive a restart (the feed flow's seen items).
 */
'use strict';

const secret = process.env.LOA_FLOWS_SECRET;
if (!secret || secret.length < 16) throw new Error('LOA_FLOWS_SECRET must be set (at least 16 characters)');

module.exports = {
  uiHost: process.env.LOA_FLOWS_HOST || '127.0.0.1',
  uiPort: Number(process.env.LOA_FLOWS_PORT || 1880),
  flowFile: 'flows.json',
  flowFilePretty: true,
  credentialSecret: secret,
  contextStorage: {
    default: { module: 'memory' },
    file: { module: 'localfilesystem', config: { flushInterval: 5 } },
  },
  httpRequestTimeout: 30_000,
  // the editor is for the province's IT staff: set LOA_FLOWS_ADMIN_HASH (bcrypt) to require a login
  ...(process.env.LOA_FLOWS_ADMIN_HASH
    ? {
        adminAuth: {
          type: 'credentials',
          users: [{ username: 'admin', password: process.env.LOA_FLOWS_ADMIN_HASH, permissions: '*' }],
        },
      }
    : {}),
  logging: { console: { level: process.env.LOA_FLOWS_LOG || 'info', metrics: false, audit: false } },
  editorTheme: { projects: { enabled: false }, tours: false },
  diagnostics: { enabled: false },
  telemetry: { enabled: false },
};
