#!/usr/bin/env node
// loa-configure: run as root at every boot before the agent (loa-configure.service). Reads the
// provisioning file on the boot partition and writes what the read-only root cannot keep:
//   - the agent's config (/run/loa/agent.json): the image's base config with the hardware
//     profile's "agent" part laid over it (images/profiles/<profile>.json);
//   - NetworkManager connections for the LTE modem's APN and for Wi-Fi (0600 keyfiles).
// Without a provisioning file (a card flashed without one) it writes the base config alone: the
// agent plays what it has and waits for a token. Exit 0 on success, 1 with a message otherwise.
// Options (defaults are the image's paths): --boot DIR --profiles DIR --base FILE --out DIR --nm DIR
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    boot: { type: 'string', default: '/boot/firmware' },
    profiles: { type: 'string', default: '/usr/share/loa/profiles' },
    base: { type: 'string', default: '/etc/loa/agent.base.json' },
    out: { type: 'string', default: '/run/loa' },
    nm: { type: 'string', default: '/run/NetworkManager/system-connections' },
  },
});

function fail(message) {
  process.stderr.write(`loa-configure: ${message}\n`);
  process.exit(1);
}

function readJson(path, what) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return fail(`${what} ${path}: ${e.message}`);
  }
}

/** Objects merge key by key; anything else (arrays, values) is replaced. */
function merge(base, over) {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return over;
  if (typeof over !== 'object' || over === null || Array.isArray(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? merge(base[k], v) : v;
  return out;
}

function writeAtomic(path, text, mode) {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** NetworkManager keyfile values: escape what the GKeyFile format treats specially. */
function kv(v) {
  return String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

const provPath = join(values.boot, 'loa-provision.json');
const base = readJson(values.base, 'base config');
let config = base;
const connections = [];
if (existsSync(provPath)) {
  const prov = readJson(provPath, 'provisioning file');
  if (prov.format !== 'loa-provision/1') fail(`${provPath}: format must be "loa-provision/1"`);
  if (typeof prov.profile !== 'string' || !/^[a-z0-9][a-z0-9-]{1,63}$/.test(prov.profile))
    fail(`${provPath}: no valid hardware profile`);
  const profilePath = join(values.profiles, `${prov.profile}.json`);
  if (!existsSync(profilePath)) fail(`hardware profile "${prov.profile}" not in ${values.profiles}`);
  const profile = readJson(profilePath, 'hardware profile');
  config = merge(base, profile.agent ?? {});
  config = merge(config, { device: { name: prov.label } });
  // A station that feeds an old commune's FM exciter or wired amplifier from its line output.
  if (prov.lineOut !== undefined) {
    if (!['loudspeaker', 'fm-exciter', 'wired-line'].includes(prov.lineOut))
      fail(`${provPath}: lineOut must be "loudspeaker", "fm-exciter" or "wired-line"`);
    config = merge(config, { audio: { profile: prov.lineOut } });
  }
  const apn = prov.network?.apn;
  if (apn?.name)
    connections.push({
      file: 'loa-lte.nmconnection',
      text: [
        '[connection]',
        'id=loa-lte',
        'type=gsm',
        'autoconnect=true',
        'autoconnect-retries=0',
        '',
        '[gsm]',
        `apn=${kv(apn.name)}`,
        ...(apn.username ? [`username=${kv(apn.username)}`] : []),
        ...(apn.password ? [`password=${kv(apn.password)}`, 'password-flags=0'] : []),
        '',
        '[ipv4]',
        'method=auto',
        'route-metric=100',
        '',
        '[ipv6]',
        'method=auto',
        '',
      ].join('\n'),
    });
  const wifi = prov.network?.wifi;
  if (wifi?.ssid)
    connections.push({
      file: 'loa-wifi.nmconnection',
      text: [
        '[connection]',
        'id=loa-wifi',
        'type=wifi',
        'autoconnect=true',
        '',
        '[wifi]',
        'mode=infrastructure',
        `ssid=${kv(wifi.ssid)}`,
        '',
        ...(wifi.psk ? ['[wifi-security]', 'key-mgmt=wpa-psk', `psk=${kv(wifi.psk)}`, ''] : []),
        '[ipv4]',
        'method=auto',
        'route-metric=50',
        '',
        '[ipv6]',
        'method=auto',
        '',
      ].join('\n'),
    });
}
mkdirSync(values.out, { recursive: true, mode: 0o755 });
writeAtomic(join(values.out, 'agent.json'), `${JSON.stringify(config, null, 2)}\n`, 0o644);
if (connections.length > 0) {
  mkdirSync(values.nm, { recursive: true, mode: 0o700 });
  for (const c of connections) writeAtomic(join(values.nm, c.file), c.text, 0o600);
}
process.stdout.write(
  `loa-configure: ${join(values.out, 'agent.json')}${connections.length ? `, ${connections.map((c) => c.file).join(', ')}` : ''}\n`,
);
