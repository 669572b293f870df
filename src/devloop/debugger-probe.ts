/**
 * Asks the debugger behind a forwarded local port whether it is there yet, in its own protocol: the Node
 * inspector's HTTP endpoint, dlv's JSON-RPC, the JDWP handshake; for others, a connection that the tunnel
 * keeps open (a refused port in the pod closes it at once).
 */
import type { DebugLanguage } from '../config/model.js';

const ATTEMPT_MS = 1_500;

/** True once the debugger answered; retries every half second until the signal aborts. */
export async function waitForDebugger(language: DebugLanguage | undefined, localPort: number, signal: AbortSignal): Promise<boolean> {
  while (!signal.aborted) {
    if (await debuggerAnswers(language, localPort)) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

export async function debuggerAnswers(language: DebugLanguage | undefined, localPort: number): Promise<boolean> {
  switch (language) {
    case 'node':
      return exchange(localPort, `GET /json/version HTTP/1.1\r\nHost: 127.0.0.1:${localPort}\r\nConnection: close\r\n\r\n`, (text) => /"V8-Version"|"Browser"/.test(text));
    case 'go':
      return exchange(localPort, `${JSON.stringify({ method: 'RPCServer.GetVersion', params: [{}], id: 1 })}\n`, (text) => text.includes('DelveVersion'));
    case 'java':
      return exchange(localPort, 'JDWP-Handshake', (text) => text.startsWith('JDWP-Handshake'));
    case 'python':
    case 'php':
    case 'ruby':
    case undefined:
      return exchange(localPort, '', () => false, true);
  }
}

/** Sends `request`, resolves true when the answer so far satisfies `answered` (or, with openIsEnough, when the connection stays up). */
async function exchange(port: number, request: string, answered: (text: string) => boolean, openIsEnough = false): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    let text = '';
    const socket = net.connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(openIsEnough && !socket.destroyed && socket.readyState === 'open'), ATTEMPT_MS);
    socket.on('connect', () => request && socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (answered(text)) done(true);
    });
    socket.on('error', () => done(false));
    socket.on('close', () => done(false));
  });
}
