/**
 * Who holds a local TCP port, for the "port in use" error: the listening sockets' inodes from
 * /proc/net/tcp{,6}, matched against the socket links in /proc/<pid>/fd. Linux only; elsewhere, or when
 * the holder belongs to another user, the answer is just unknown.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface PortHolder {
  readonly pid: number;
  readonly command: string;
}

const LISTEN = '0A';

/** Inodes of sockets listening on `port` in a /proc/net/tcp table (pure). */
export function listeningInodes(table: string, port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[1]?.endsWith(`:${hexPort}`) && cols[3] === LISTEN)
    .map((cols) => cols[9] ?? '')
    .filter((inode) => inode !== '' && inode !== '0');
}

/** The process listening on the port, when /proc lets us see it. */
export function findPortHolder(port: number): PortHolder | undefined {
  try {
    const inodes = new Set(['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) => listeningInodes(readOrEmpty(table), port)));
    if (inodes.size === 0) return undefined;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      if (holdsSocket(entry, inodes)) return { pid: Number(entry), command: commandOf(entry) };
    }
  } catch {
    // Not Linux, or /proc is not readable: the holder stays unknown.
  }
  return undefined;
}

function holdsSocket(pid: string, inodes: ReadonlySet<string>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  return fds.some((fd) => {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      return match !== null && inodes.has(match[1]!);
    } catch {
      return false;
    }
  });
}

function commandOf(pid: string): string {
  const argv = readOrEmpty(`/proc/${pid}/cmdline`).split('\0').filter(Boolean);
  return argv.length ? argv.join(' ').slice(0, 120) : readOrEmpty(`/proc/${pid}/comm`).trim();
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
