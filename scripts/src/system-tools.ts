/**
 * The Debian packages Loa needs, from the one list in scripts/setup/debian-packages.txt (also read
 * by `npm run setup` and .ci/run): which commands are missing for a purpose ("start", "test",
 * "build"), and the one line that says what to install.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** From scripts/src (tsx) and scripts/dist (compiled) alike. */
const LIST = fileURLToPath(new URL('../setup/debian-packages.txt', import.meta.url));

export interface SystemTool {
  pkg: string;
  command: string;
  needs: string[];
  why: string;
}

export function systemTools(listFile = LIST): SystemTool[] {
  return readFileSync(listFile, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [pkg = '', command = '', needs = '', ...why] = l.split(/\s+/);
      return { pkg, command, needs: needs.split(','), why: why.join(' ') };
    });
}

/**
 * Whether `command` is an executable on PATH (or in the sbin folders a non-root PATH may lack).
 * An absolute path (a package that installs data, such as a font) is checked as a readable file.
 */
export function onPath(command: string, path = process.env.PATH ?? ''): boolean {
  if (isAbsolute(command)) {
    try {
      accessSync(command, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  }
  return [...path.split(delimiter), '/usr/sbin', '/sbin'].some((d) => {
    if (d === '') return false;
    try {
      accessSync(join(d, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The tools needed for `purpose` that are not installed. */
export function missingTools(purpose: 'start' | 'test' | 'build', path?: string): SystemTool[] {
  return systemTools().filter((t) => t.needs.includes(purpose) && !onPath(t.command, path));
}

/** One line naming the missing commands and how to install them. */
export function missingToolsMessage(missing: readonly SystemTool[]): string {
  const what = missing.map((t) => `${t.command} (package ${t.pkg})`).join(', ');
  const pkgs = [...new Set(missing.map((t) => t.pkg))].join(' ');
  return `missing system tools: ${what}. Run \`npm run setup\`, or: apt-get install -y ${pkgs}`;
}
