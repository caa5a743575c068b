/** Typed access to node-red-node-test-helper (a CommonJS module) and small waits on its spies. */
import { require } from './loa-fixture.js';

export interface NrMsg {
  payload?: unknown;
  topic?: string;
  [k: string]: unknown;
}
export interface NrNode {
  id: string;
  receive(msg: NrMsg): void;
  on(event: string, fn: (arg: never) => void): void;
  off?(event: string, fn: (arg: never) => void): void;
  removeListener(event: string, fn: (arg: never) => void): void;
}
export interface NrHelper {
  init(runtimePath: string, settings?: Record<string, unknown>): void;
  startServer(cb: () => void): void;
  stopServer(cb: () => void): void;
  load(nodes: unknown[], flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): NrNode;
  url(): string;
}

export const helper = require('node-red-node-test-helper') as NrHelper;
helper.init(require.resolve('node-red'));

export const startNodeRed = () => new Promise<void>((r) => helper.startServer(r));
export const stopNodeRed = () => new Promise<void>((r) => helper.stopServer(r));

export interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}

/** The next status of `n` that satisfies `pred` (green or red, usually). */
export function statusOf(n: NrNode, pred: (s: Status) => boolean, timeoutMs = 20_000): Promise<Status> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      n.removeListener('call:status', on);
      reject(new Error(`no matching status within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (call: { args: [Status] }) => {
      const s = call.args[0];
      if (!pred(s)) return;
      clearTimeout(t);
      n.removeListener('call:status', on);
      resolve(s);
    };
    n.on('call:status', on as never);
  });
}

export const settled = (s: Status) => s.fill === 'green' || s.fill === 'red' || s.fill === 'yellow';

/** The next message arriving at a "helper" node. */
export function nextInput(n: NrNode, timeoutMs = 20_000): Promise<NrMsg> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message within ${timeoutMs} ms`)), timeoutMs);
    const on = (msg: NrMsg) => {
      clearTimeout(t);
      n.removeListener('input', on);
      resolve(msg);
    };
    n.on('input', on as never);
  });
}

/** The next error the node reports (node.error, shown in the debug panel and given to catch nodes). */
export function nextError(n: NrNode, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no error within ${timeoutMs} ms`)), timeoutMs);
    const on = (call: { args: unknown[] }) => {
      clearTimeout(t);
      n.removeListener('call:error', on);
      const a = call.args[0];
      resolve(a instanceof Error ? a.message : String(a));
    };
    n.on('call:error', on as never);
  });
}
