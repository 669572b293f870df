/**
 * The line protocol of the sync agent, pure: a small sh script that runs in the dev container for as long
 * as the exec channel lives, so that each batch costs one request instead of a fresh exec handshake.
 *
 * Request: a line `<op> <id> <bytes>` on stdin, then exactly <bytes> bytes of payload. The agent reads
 * the payload with `dd … iflag=fullblock` (busybox `head -c` reads ahead and would eat the next request).
 *   put   payload = a tar archive, extracted in workDir
 *   del   payload = NUL-separated `./paths` to remove (rm -rf)
 *   hash  payload = NUL-separated `./paths` to hash (md5sum)
 *   list  payload = newline-separated names of directories not to descend into (ignored everywhere, such
 *         as node_modules); answers the tree below workDir: `stat -c '%f %s %Y %Z %n'` lines, then
 *         `@@links`, then per symlink a line with its path and a line with its target
 *   quit  ends the agent
 * Response: the command's output, then a line `@@nh <id> <exit code>` preceded by a newline.
 * Id 0 is the agent's greeting once it is in workDir. Needs only sh, dd, tar, find, stat, xargs, md5sum,
 * readlink and rm: busybox has them all.
 */
import { kindOfMode, type TreeEntry } from './tree.js';

export type AgentOp = 'put' | 'del' | 'hash' | 'list' | 'quit';

export const AGENT_SCRIPT = `mkdir -p "$1" && cd "$1" || { printf '\\n@@nh 0 2\\n'; exit 2; }
take() {
  b=$(($1 / 65536)); r=$(($1 % 65536))
  if [ "$b" -gt 0 ]; then dd bs=65536 count="$b" iflag=fullblock 2>/dev/null; fi
  if [ "$r" -gt 0 ]; then dd bs="$r" count=1 iflag=fullblock 2>/dev/null; fi
}
listing() {
  find . -mindepth 1 \\( "$@" \\) -prune -o -exec stat -c '%f %s %Y %Z %n' {} +
  echo '@@links'
  find . -mindepth 1 \\( "$@" \\) -prune -o -type l -exec sh -c 'for l; do printf "%s\\n%s\\n" "$l" "$(readlink "$l")"; done' sh {} +
}
pruned() {
  names=$(take "$1"); set -- -name /; saved=$IFS; IFS='
'
  for name in $names; do set -- "$@" -o -name "$name"; done
  IFS=$saved; listing "$@"
}
printf '\\n@@nh 0 0\\n'
while read -r op id n; do
  case "$op" in
    put) take "$n" | { tar -xf - 2>&1; rc=$?; cat >/dev/null; exit $rc; } ;;
    del) take "$n" | xargs -0 rm -rf -- 2>&1 ;;
    hash) take "$n" | xargs -0 md5sum 2>&1 ;;
    list) pruned "$n" 2>&1 ;;
    quit) exit 0 ;;
    *) take "$n" >/dev/null; false ;;
  esac
  printf '\\n@@nh %s %s\\n' "$id" "$?"
done
`;

/** The container command that starts the agent in workDir. */
export function agentCommand(workDir: string): string[] {
  return ['sh', '-c', AGENT_SCRIPT, 'nh-sync', workDir];
}

/** The `list` payload: names the container listing does not descend into (`-name /` matches nothing). */
export function pruneList(names: readonly string[]): Uint8Array {
  return new TextEncoder().encode(names.map((name) => `${name}\n`).join(''));
}

export function requestLine(op: AgentOp, id: number, payloadBytes: number): Uint8Array {
  return new TextEncoder().encode(`${op} ${id} ${payloadBytes}\n`);
}

/** NUL-separated `./path` list: the payload of `del` and `hash`. */
export function pathList(paths: readonly string[]): Uint8Array {
  return new TextEncoder().encode(paths.map((p) => `./${p}\0`).join(''));
}

export interface AgentResponse {
  readonly id: number;
  readonly exitCode: number;
  readonly body: Buffer;
}

const MARKER = Buffer.from('\n@@nh ');
/** Longest possible end line: marker, id, exit code, newline. */
const MARKER_TAIL = MARKER.length + 24;

/** Cuts the agent's stdout into responses; bytes arrive in arbitrary chunks. */
export class ResponseReader {
  private chunks: Buffer[] = [];
  private length = 0;
  /** The last bytes seen, so that a marker split across two chunks is still found. */
  private tail = Buffer.alloc(0);

  /** Adds bytes; returns every response completed by them. */
  push(chunk: Buffer): AgentResponse[] {
    const window = Buffer.concat([this.tail, chunk]);
    this.tail = window.subarray(Math.max(0, window.length - MARKER_TAIL));
    this.chunks.push(chunk);
    this.length += chunk.length;
    // Listings run to megabytes: only join the chunks when an end line may have arrived.
    if (window.indexOf(MARKER) < 0) return [];
    const responses: AgentResponse[] = [];
    for (let response = this.extract(); response; response = this.extract()) responses.push(response);
    return responses;
  }

  private extract(): AgentResponse | undefined {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    this.chunks = [all];
    for (let at = all.indexOf(MARKER); at >= 0; at = all.indexOf(MARKER, at + 1)) {
      const lineEnd = all.indexOf(0x0a, at + MARKER.length);
      if (lineEnd < 0) return undefined;
      const match = /^(\d+) (\d+)$/.exec(all.subarray(at + MARKER.length, lineEnd).toString('latin1'));
      if (!match) continue;
      const rest = Buffer.from(all.subarray(lineEnd + 1));
      this.chunks = [rest];
      this.length = rest.length;
      return { id: Number(match[1]), exitCode: Number(match[2]), body: Buffer.from(all.subarray(0, at)) };
    }
    return undefined;
  }
}

/** The container's tree from a `list` response. Unreadable lines (names with newlines) are dropped. */
export function parseListing(body: string): TreeEntry[] {
  const [statPart = '', linkPart = ''] = body.split('\n@@links\n');
  const targets = new Map<string, string>();
  const linkLines = linkPart.split('\n');
  for (let i = 0; i + 1 < linkLines.length; i += 2) {
    const path = stripDot(linkLines[i]!);
    if (path) targets.set(path, linkLines[i + 1]!);
  }
  const entries: TreeEntry[] = [];
  for (const line of statPart.split('\n')) {
    const match = /^([0-9a-f]+) (\d+) (\d+) (\d+) (.+)$/.exec(line);
    const path = match ? stripDot(match[5]!) : undefined;
    if (!match || !path) continue;
    const raw = parseInt(match[1]!, 16);
    const kind = kindOfMode(raw);
    entries.push({
      path, kind, mode: raw & 0o7777, size: Number(match[2]), mtimeMs: Number(match[3]) * 1000, writtenMs: Number(match[4]) * 1000,
      ...(kind === 'link' ? { target: targets.get(path) ?? '' } : {}),
    });
  }
  return entries;
}

/** path → md5 from `md5sum` output (GNU escapes names holding `\\` or newlines with a leading backslash). */
export function parseHashes(body: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const line of body.split('\n')) {
    const match = /^(\\?)([0-9a-f]{32}) [ *](.+)$/.exec(line);
    if (!match) continue;
    const name = match[1] ? match[3]!.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\')) : match[3]!;
    const path = stripDot(name);
    if (path) hashes.set(path, match[2]!);
  }
  return hashes;
}

function stripDot(name: string): string | undefined {
  return name.startsWith('./') && name.length > 2 ? name.slice(2) : undefined;
}
