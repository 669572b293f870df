/** The page's side of the server: the token nh put in the page, the event stream, the actions. */
import type { SessionEvent } from '../../events/session-event.js';

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
}

export const token = meta('nh-token');
/** The actions this server offers (none in the read-only view of `nh ui`). */
export const actions = new Set(meta('nh-actions').split(',').filter(Boolean));

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'gone';

/**
 * Follows the stream. After each (re)connect nh sends `reset` (the current state) or, when the page comes
 * back after a short drop, `resume` (just the events it missed); events are handed on once each, in order,
 * whatever the server sends twice. After 5 failed tries in a row nh is gone.
 */
export function follow(handlers: { reset: (events: SessionEvent[]) => void; events: (events: SessionEvent[]) => void; connection: (state: Connection) => void }): () => void {
  const source = new EventSource(`/events?token=${encodeURIComponent(token)}`);
  let failures = 0;
  let lastSeq = 0;
  const fresh = (data: string) => {
    const events = (JSON.parse(data) as SessionEvent[]).filter((e) => e.seq > lastSeq);
    lastSeq = events.at(-1)?.seq ?? lastSeq;
    return events;
  };
  const connected = () => {
    failures = 0;
    handlers.connection('live');
  };
  source.addEventListener('reset', (message) => {
    connected();
    lastSeq = 0;
    handlers.reset(fresh((message as MessageEvent<string>).data));
  });
  source.addEventListener('resume', (message) => {
    connected();
    handlers.events(fresh((message as MessageEvent<string>).data));
  });
  source.onmessage = (message: MessageEvent<string>) => handlers.events(fresh(message.data));
  source.onerror = () => {
    failures++;
    if (failures >= 5) {
      source.close();
      handlers.connection('gone');
    } else handlers.connection('reconnecting');
  };
  return () => source.close();
}

export async function runAction(action: string, service: string): Promise<{ ok: boolean; text: string }> {
  try {
    const response = await fetch(`/api/actions/${encodeURIComponent(action)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-nh-token': token },
      body: JSON.stringify({ service }),
    });
    const body = (await response.json()) as { message?: string; error?: string; hint?: string };
    return response.ok ? { ok: true, text: body.message ?? 'done' } : { ok: false, text: [body.error, body.hint].filter(Boolean).join(' — ') };
  } catch (error) {
    return { ok: false, text: `nh did not answer (${(error as Error).message})` };
  }
}
