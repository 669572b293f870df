/** `: <message>` of a Kubernetes Status body (upgrade refusals, log errors), or '' when there is none. */
export function statusMessageSuffix(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === 'string' ? `: ${message}` : '';
  } catch {
    return body.trim() ? `: ${body.trim().slice(0, 200)}` : '';
  }
}
