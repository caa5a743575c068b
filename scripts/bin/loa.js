#!/usr/bin/env node
// The `loa` command: runs the compiled CLI (scripts/dist, built by `npx tsc -b`, which `npm ci`
// runs through the root "prepare" script). From source without building: `npm run loa -- …`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'loa: chưa biên dịch (scripts/dist/cli/main.js không có). Chạy `npx tsc -b` ở thư mục gốc, hoặc dùng `npm run loa -- …`.\n' +
      'loa: not built yet (scripts/dist/cli/main.js is missing). Run `npx tsc -b` at the repository root, or use `npm run loa -- …`.\n',
  );
  process.exit(1);
}
await import(entry.href);
