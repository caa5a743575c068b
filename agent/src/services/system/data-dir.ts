/**
 * The agent's data directory: its layout and the helpers to read it. Everything the agent must
 * not lose lives here: device key, credentials, trust policy, bundles, proof journal, seen
 * command ids, boot counter. Writes go through `writeFileAtomic`/`writeJsonAtomic` of
 * `@loa/protocol/fs` (the one crash-safe write of both programs).
 */
import { chmod, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LoaError } from '@loa/protocol';
import type { z } from 'zod';

export interface DataPaths {
  root: string;
  deviceKey: string;
  credentials: string;
  trust: string;
  state: string;
  seenCommands: string;
  bundles: string;
  journal: string;
  clock: string;
  player: string;
}

export function dataPaths(root: string): DataPaths {
  return {
    root,
    deviceKey: join(root, 'device-key.pem'),
    credentials: join(root, 'credentials.json'),
    trust: join(root, 'trust.json'),
    state: join(root, 'state.json'),
    seenCommands: join(root, 'seen-commands.json'),
    bundles: join(root, 'bundles'),
    journal: join(root, 'journal'),
    clock: join(root, 'clock.json'),
    player: join(root, 'player.json'),
  };
}

/** Creates a directory (and parents) with the given mode; tightens the mode of an existing one. */
export async function ensureDir(dir: string, mode = 0o700): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode });
    const st = await stat(dir);
    if ((st.mode & 0o777) !== mode) await chmod(dir, mode);
  } catch (cause) {
    throw new LoaError('DATA_DIR_UNWRITABLE', `cannot create directory ${dir}`, { cause });
  }
}

/** Reads a JSON file through a schema; undefined when the file does not exist. */
export async function readJsonFile<S extends z.ZodType>(
  path: string,
  schema: S,
): Promise<z.infer<S> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LoaError('FILE_UNREADABLE', `cannot read ${path}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new LoaError('FILE_CORRUPT', `${path} is not valid JSON`, { cause });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new LoaError('FILE_CORRUPT', `${path} does not have the expected content`, { cause: parsed.error });
  return parsed.data;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** A promise chain that runs tasks one at a time (serialises file operations). */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const next = this.tail.then(task, task);
    this.tail = next.catch(() => undefined);
    return next;
  }
}
