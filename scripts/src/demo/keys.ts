/**
 * The demo trust root: generated once into DATA_DIR/demo-keys and reused on restart.
 * DEMO ONLY — a province generates its root offline (`loa keygen`) and never puts it on a server.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateKeyPair,
  type KeyPair,
  privateKeyFromPem,
  privateKeyToPem,
  publicKeyFromPem,
  publicKeyToPem,
} from '@loa/protocol';

export interface DemoRoot {
  keys: KeyPair;
  dir: string;
  publicPemPath: string;
  created: boolean;
}

export function loadOrCreateDemoRoot(dataDir: string): DemoRoot {
  const dir = join(dataDir, 'demo-keys');
  const priv = join(dir, 'root.key.pem');
  const pub = join(dir, 'root.pub.pem');
  if (existsSync(priv) && existsSync(pub)) {
    return {
      keys: {
        privateKey: privateKeyFromPem(readFileSync(priv, 'utf8')),
        publicKey: publicKeyFromPem(readFileSync(pub, 'utf8')),
      },
      dir,
      publicPemPath: pub,
      created: false,
    };
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = generateKeyPair();
  writeFileSync(priv, privateKeyToPem(keys.privateKey), { mode: 0o600 });
  writeFileSync(pub, publicKeyToPem(keys.publicKey), { mode: 0o644 });
  writeFileSync(
    join(dir, 'README.txt'),
    'CHỈ DÙNG ĐỂ DEMO / DEMO ONLY.\n' +
      'Khoá gốc này được sinh tự động cho bản demo. Tỉnh thật sinh khoá gốc ngoại tuyến bằng `loa keygen`\n' +
      'và không bao giờ để khoá bí mật trên máy chủ.\n',
  );
  return { keys, dir, publicPemPath: pub, created: true };
}
