/** A minimal server-sent events reader over fetch (what the dashboard's live views consume). */

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Opens `url` and resolves with the first event for which `pred` is true (events seen before it
 * are kept in `seen`). Rejects after `timeoutMs`. The stream is always closed.
 */
export async function waitForSse(
  url: string,
  headers: Record<string, string>,
  pred: (e: SseEvent) => boolean,
  timeoutMs: number,
  seen: SseEvent[] = [],
): Promise<SseEvent> {
  const ctl = new AbortController();
  const timer = setTimeout(
    () => ctl.abort(new Error(`no matching event from ${url} in ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    const res = await fetch(url, {
      headers: { accept: 'text/event-stream', ...headers },
      signal: ctl.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
      for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length === 0) continue; // comments (keep-alive)
        const e = { event, data: data.join('\n') };
        seen.push(e);
        if (pred(e)) return e;
      }
    }
    throw new Error(`${url}: the stream ended before a matching event`);
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
}
