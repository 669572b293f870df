/** The page's side of the server: the token nh put in the page, the event stream, the actions. */
import type { SessionEvent } from '../../events/session-event.js';

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
}

export const token = meta('nh-token');
/** The actions this server offers (none in the read-only view of `nh ui`). */
export const actions = new Set(meta('nh-actions').split(',').filter(Boolean));

export type Connection = 'connecting' | 'live' | 'reconnecting' | 'gone';

/** Follows the stream; `reset` brings the current state after each (re)connect. After 5 failed tries in a row nh is gone. */
export function follow(handlers: { reset: (events: SessionEvent[]) => void; events: (events: SessionEvent[]) => void; connection: (state: Connection) => void }): () => void {
  const source = new EventSource(`/events?token=${encodeURIComponent(token)}`);
  let failures = 0;
  source.addEventListener('reset', (message) => {
    failures = 0;
    handlers.connection('live');
    handlers.reset(JSON.parse((message as MessageEvent<string>).data) as SessionEvent[]);
  });
  source.onmessage = (message: MessageEvent<string>) => handlers.events(JSON.parse(message.data) as SessionEvent[]);
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
