import { createHash } from 'node:crypto';
import { HANDOFF_HELPER_SOURCE } from './handoff-helper.js';

/**
 * The in-container side of the process supervisor, pure: a small sh script that lives on one exec channel per
 * service for the whole session, and the parser of what it says. A restart is one line on that channel, not a
 * new exec through the API server: the script stops the old process group and starts the new one in the same
 * step, and tells when the new process listens on the service's port (read from the pod's socket table), so
 * the forwards hold new connections only for the gap.
 *
 * Arguments: $1 marker, $2 pid file, $3 workDir, $4 port to watch (0: none), $5 the run command and $6 the
 * build command, each as sh-quoted words (quoteWords; "" = none), $7 grace in hundredths of a second.
 * Requests, one line each on stdin: `build ID` (runs the build, as its own group, output into `$2.build`,
 * while the old process keeps running; nh sends no other request until it is answered), `start ID` (stops the group in the pid file, TERM then KILL after the grace, and starts the
 * command as its own session and group), `stop ID`. Answers and events are lines `@@nh-MARKER WORD …` on
 * stdout, between the process's own output: `ready`, `fatal REASON`, `built ID`, `build-failed ID CODE`,
 * `started ID GEN stopped|none`, `listening ID GEN`, `stopped ID stopped|none`, `exited GEN CODE` (not for a
 * process a start replaced: its `started … stopped` says so).
 * `stop` also ends a build under way (and a standby). `standby ID` is answered by `prepared ID`. `started`
 * comes once the new process listens, or ≈ 20 ms after its start if it does not yet (so possibly after its
 * `exited`).
 * When stdin ends (nh is gone: even after SIGKILL the kubelet closes it) the script stops the group it
 * started, unless a newer channel (nh reconnected) has since replaced it, and exits, so no process outlives
 * the nh that started it. Needs sh, setsid, cat, sleep (fractions), kill.
 * Stopping waits on the process's job (woken the moment it exits), not on a poll; the port is looked for in
 * the socket table every 4 ms for the new process's first ≈ 0.45 s, then less and less often (watch).
 *
 * Standby ($8: the standby's command (standbyCommand), "" = none; $9: the Node preload's source): on `standby ID`
 * the script starts the next process ahead of time, held at a fifo: Node boots and its preload waits before any
 * of the application's code is loaded; any other command waits in a forked shell before its exec. A later
 * `start` writes one byte to the fifo instead of starting a process: the restart then costs the application's
 * own start, not the runtime's boot or the fork, setsid and shell. The standby first waits for the old process's
 * end on that process's end fifo (each process holds its own open, nothing else does), so for a process alone in
 * its group the byte is written before the TERM, and the standby starts the moment the old process is gone, with
 * no wake-up of the script in between; otherwise the byte follows the end of the whole group. After the stop the
 * script writes a line to the old end fifo too, so the standby goes on even if something outside the group
 * still holds it. The script keeps the fifo open for writing until the standby is used or dropped, so the byte
 * waits in the pipe even for a standby still booting, and a standby that died costs nothing (the start falls
 * back to a fresh process). A standby's generation is reserved when it is started (its exit is reported under
 * it); a dropped one's is skipped. Its files carry the script's pid: a newer channel has its own.
 *
 * Hand-off ($10: where the helper is built, "" = none; only with a standby that is a held shell, and where the
 * container has `go`): nh sends the helper's Go source (handoff-helper.ts) as the request `handoff LINES` followed
 * by its lines (on stdin: in the exec's URL it would add ≈ 12 KB, URL-encoded, and an API server proxy refused
 * exactly that with 431 in the fault tests), and the first standby after it builds the helper in the background.
 * From then on an armed start tells the standby to run the new process at once under the helper, while the old
 * one still serves; the helper holds the new process's first bind that could collide with the old one's, stops
 * the old group (TERM) and lets the bind go on once the old process's end fifo ends. The restart then costs the
 * old process's exit and the rest of a bind, not the new process's start. The script sends the TERM itself after
 * 1 s if no such bind comes. The new process's own start-up overlaps the old one's last moments (files, locks,
 * migrations), and without CAP_SYS_ADMIN it runs with no_new_privs.
 */

export const SUPERVISOR_SCRIPT = `m=$1 p=$2 wd=$3 port=$4 run=$5 build=$6 grace=$7 standby=$8 hb=\${10} handoff=
say() { printf '@@nh-%s %s\\n' "$m" "$*"; }
cd "$wd" 2>/dev/null || { say fatal workdir; exit 126; }
command -v setsid >/dev/null 2>&1 || { say fatal setsid; exit 127; }
[ -n "$standby" ] && { printf '%s\\n' "$9" > "$p.standby.cjs" && command -v mkfifo >/dev/null 2>&1 || standby=; }
[ -n "$hb" ] && [ -n "$standby" ] && command -v go >/dev/null 2>&1 || hb=
sjob= timers= end= kept= armed= handing= hjob= g=
hex=$(printf '%04X' "$port")
gs=$((grace / 100)).$(printf '%02d' $((grace % 100)))
gen=0
# Each read of a socket table makes the kernel walk the node's whole connection hash (≈ 3 ms of CPU a file on a
# 2-core node, however few sockets the pod has: as much as a Go binary's whole start). So the reading stops where
# the listeners, which come first, end (listeners stay in 03 on kernels before 4.4), and a process with no child
# and no socket open beside its stdio (which may be a socket pair) is not read for at all (a few stats in /proc).
listens() {
  children "$1" && [ -z "$kids" ] && {
    s=; for f in /proc/"$1"/fd/*; do case "\${f##*/}" in 0|1|2) ;; *) [ -S "$f" ] && s=1 && break;; esac; done
    [ -n "$s" ] || return 1
  }
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] || continue
    while read -r _ l _ st _; do
      case "$st" in 0A) ;; 03|st) continue;; *) break;; esac
      case "$l" in *:"$hex") return 0;; esac
    done < "$f"
  done
  return 1
}
# The children of process $1 in kids, whichever of its threads forked them (a Go program, the hand-off helper
# among them, forks from any of its threads, and each thread lists only its own); false where the kernel lists
# no children (CONFIG_PROC_CHILDREN).
children() {
  kids=; [ -r "/proc/$1/task/$1/children" ] || return 1
  for t in /proc/"$1"/task/*/children; do k=; read -r k < "$t"; kids="$kids\${k:+ $k}"; done 2>/dev/null
}
halt() {
  was=none pg=
  # Builtins only (no cat, no rm): this is on the path of every restart.
  [ -e "$1" ] && { read -r pg 2>/dev/null < "$1"; : > "$1"; }
  case "$pg" in ""|*[!0-9]*) return;; esac
  kill -0 -"$pg" 2>/dev/null || return
  # Woken by the process's own exit (wait on its job), not by a poll; a timer sends KILL once the grace is over.
  # The timer is forked before the TERM and ended at the next request (untime), so neither is in the service's
  # gap; one left to run out finds no group to kill. In a hand-off ($3) the new process sends the TERM at its
  # first bind, and the timer sends it after 1 s if that never comes (a process that binds late, or never).
  ( trap 'kill $s 2>/dev/null; exit 0' TERM; [ -z "$3" ] || { sleep 1 & s=$!; wait $s && kill -TERM -"$pg"; }
    sleep "$gs" & s=$!; wait $s && kill -KILL -"$pg" ) 2>/dev/null 5>&- 6>&- & timers="$timers $!"
  [ -n "$3" ] || kill -TERM -"$pg" 2>/dev/null
  [ -n "$2" ] && wait "$2" 2>/dev/null
  # The rest of the group, if any outlives its leader (rare), is still waited for; not members left as zombies
  # by a PID 1 that reaps late, which kill -0 still finds (looked for at once, then every 25 tries).
  i=0; while kill -0 -"$pg" 2>/dev/null && [ "$i" -lt $((grace + 200)) ]; do
    [ $((i % 25)) != 0 ] || lives "$pg" || break; i=$((i+1)); sleep 0.01; done
  was=stopped
}
# Some process of group $1 is not a zombie (its /proc/PID/stat: "pid (comm) state ppid pgrp …").
lives() {
  for f in /proc/[0-9]*/stat; do
    l=; read -r l 2>/dev/null < "$f" || continue
    set -- "$1" \${l##*) }
    [ "$4" = "$1" ] && case "$2" in Z|X) false;; esac && return 0
  done
  return 1
}
untime() {
  [ -n "$timers" ] || return 0
  kill $timers 2>/dev/null; wait $timers 2>/dev/null; timers=
}
# Waits until job $2's process has written its pid to $1 (or ended), and sets mine to it: on a loaded node
# a start can take seconds, and without the pid nothing can follow or stop the process. Looked for every 2 ms,
# after 0.1 s every 20 ms (as in watch), for ≈ 30 s.
pid_of() {
  i=0 nap=0.002; while [ ! -s "$1" ] && kill -0 "$2" 2>/dev/null; do
    case $i in 50) nap=0.02;; 1550) break;; esac; i=$((i+1)); sleep $nap; done
  mine=; read -r mine 2>/dev/null < "$1"
}
# Starts command $2 as its own session and group, its pid in file $1, its exit reported as generation $3; sets
# launched (its job) and mine (its pid). The process gets stderr (fd 3) from its own shell: sh writes its
# "Terminated" note for a stopped process to the stderr of the command it waited for. With $4, the process holds
# that fifo open for writing (fd 4), its end fifo: nothing else does, so the fifo's reader sees its end the
# moment the process, and whatever inherited it, is gone.
launch() {
  { setsid sh -c 'exec 2>&3 3>&-; echo $$ > "$1" || exit 126; [ -z "$3" ] || { command exec 4<>"$3"; } 2>/dev/null; eval "exec $2"' nh-app "$1" "$2" "$4"
    rc=$? q=; read -r q 2>/dev/null < "$p.replaced.$$"; [ "$q" = "$3" ] || say exited "$3" $rc; } 3>&2 2>/dev/null 5>&- 6>&- </dev/null &
  launched=$!; pid_of "$1" "$launched"
}
begin() {
  gen=$((gen+1)); g=$gen
  : > "$p"
  end=; [ -z "$standby" ] || { end="$p.end.$$.$g"; mkfifo "$end" 2>/dev/null || end=; }
  launch "$p" "$run" "$g" "$end"; job=$launched; run_pid=$mine
}
# The next process, started ahead and held at its fifo until a start writes to it (fd 5 meanwhile). It first
# waits for the running process's end (its end fifo, NH_STANDBY_AFTER), so a start may write its byte before it
# stops the old group: the standby then follows the old process's exit directly, with none of the script's
# wake-ups in between.
prepare() {
  [ -n "$standby" ] && [ -z "$sjob" ] || return 0
  [ -z "$handoff" ] || [ -e "$hb" ] || [ -e "$hb.off" ] || [ -n "$hjob" ] || build_handoff
  sgen=$((gen+1)); sp="$p.next.$$"; sf="$p.go.$$.$sgen"; sd="$p.end.$$.$sgen"
  exec 5>&- 6>&-; rm -f "$p".go.$$.* "$sp" \${kept:+"$kept"}; kept=
  mkfifo "$sf" "$sd" 2>/dev/null || return 0
  exec 5<>"$sf"
  export NH_STANDBY_FIFO="$sf" NH_STANDBY_AFTER="$end" NH_HANDOFF="\${handoff:+$hb}"
  launch "$sp" "$standby" "$sgen" "$sd"; unset NH_STANDBY_FIFO NH_STANDBY_AFTER NH_HANDOFF
  sjob=$launched; spid=$mine
}
# The hand-off helper ($hb, shared by the container's channels), built once in the background, at nice, while the
# first process serves: until it is there a restart stops the old process first. One that cannot be built (or
# finds seccomp refused: it renames itself) leaves $hb.off, and is not tried again.
build_handoff() {
  n=; command -v nice >/dev/null 2>&1 && n=nice
  ( d="$hb.d.$$"; mkdir -p "$d" && cp "$handoff" "$d/main.go" && cd "$d" &&
    GOFLAGS= GOWORK=off GO111MODULE=on CGO_ENABLED=0 GOOS= GOARCH= GOTOOLCHAIN=local $n go build -o "$hb.$$" main.go &&
    mv -f "$hb.$$" "$hb" || : > "$hb.off"; rm -rf "$d" "$hb.$$" ) </dev/null >/dev/null 2>&1 5>&- 6>&- &
  hjob=$!
}
# The standby is alive, and not a zombie its job has yet to reap (kill -0 would still find that one).
alive() {
  st=; [ -n "$sjob" ] && [ -n "$spid" ] && read -r _ _ st _ 2>/dev/null < "/proc/$spid/stat"
  case "$st" in ""|Z|X) return 1;; esac
}
# Before the old group is stopped. Its leader's exit goes unreported (\`started … stopped\` says it): that
# line's way to nh (the runtime, the kubelet, the API server) would take the CPU from the new process's start.
# Then the byte for a standby that waits for the old process's end. Only where every process that may hold the
# port holds the end fifo: the leader (or the hand-off helper, which closes its copy so that the fifo ends with
# its command, not with its own exit after it) and its children, none with a child of its own. A child may hold
# the port without the fifo (Python's subprocess closes it), and one that closed the fifo would let the standby
# run at once; those wait for the group. A standby waits on the end fifo that was the running process's when it
# was prepared: only a start (which uses or drops it) changes that.
# Hand-off: with the helper built, a line in that end fifo tells the standby to run the new process at once under
# the helper (which stops the old group at its first bind); the byte stays for a standby that misses the line.
arm() {
  echo "$g" > "$p.replaced.$$"
  armed= handing=; [ -n "$end" ] && alive || return 0
  lead=; read -r lead 2>/dev/null < "$p"
  holds "$lead" || { [ -n "$hb" ] && [ "/proc/$lead/exe" -ef "$hb" ]; } || return 0
  children "$lead" || return 0
  for k in $kids; do holds "$k" && children "$k" && [ -z "$kids" ] || return 0; done
  echo go >&5 && armed=go
  [ -n "$handoff" ] && [ -x "$hb" ] || return 0
  { command exec 6<>"$end"; } 2>/dev/null && echo "handoff $lead" >&6 && armed="handoff $lead" handing=1; exec 6>&-
}
holds() { [ -n "$1" ] && [ "/proc/$1/fd/4" -ef "$end" ]; }
# The replaced process's end fifo, kept open with a line in it: its standby goes on even if something that
# process started (outside its group) still holds the fifo, or if it opens the fifo only now.
keep() {
  [ -n "$end" ] || return 0
  { command exec 6<>"$end"; } 2>/dev/null && echo go >&6; kept=$end; end=
}
# Makes the standby the running process (armed, or written to now); false when it never started (its
# generation is skipped). An armed one that is gone already started and ended, unless its byte is still in the
# fifo (it died before reading it): a second line tells which comes first (Node's preload reads one byte only).
# For a hand-off, the line in the old end fifo (kept open on fd 6) tells.
release() {
  [ -n "$sjob" ] || return 1
  if [ -n "$handing" ]; then
    alive || { echo x >&6; read -r b <&6; [ "$b" != "$armed" ]; }
  elif [ -n "$armed" ]; then
    alive || { echo x >&5; read -r b <&5; [ "$b" != go ]; }
  else
    alive && echo go >&5
  fi || { sjob=; gen=$sgen; return 1; }
  gen=$sgen; g=$gen; job=$sjob; run_pid=$spid; end=$sd; sjob=
  echo "$spid" > "$p"
}
drop() {
  dropped=; if [ -n "$sjob" ]; then w=$was; halt "$sp" "$sjob"; was=$w; sjob=; dropped=$sd; fi
  exec 5>&-; [ -z "$sf" ] || rm -f "$sf" "$sp" \${dropped:+"$dropped"}
}
# Answers the start, then says when the new process listens. One that listens within a few ms (a Go binary) gets
# both lines in one write once it listens, so the answer's way to nh (the kubelet, the API server, nh's own work)
# does not take the CPU from its start; a slower one gets its answer after ≈ 20 ms. The socket table is read
# every 4 ms 60 times (≈ 0.45 s; a Node restart listens after ≈ 0.15 s), then every 20 ms until ≈ 2 s, then every
# 0.1 s (a JVM, a loaded node); after ≈ 30 s the process counts as listening anyway, so the forwards never hold
# for good. Each round forks a \`sleep\` (≈ 3.5 ms of CPU on a quiet 2-core node): every 4 ms throughout, a
# slow start lost half a core to the wait for it.
watch() {
  pg=; read -r pg 2>/dev/null < "$p"
  a="started $1 $gen $was"
  [ "$port" = 0 ] && { served "$1"; return; }
  { i=0 nap=0.004; until listens "$pg"; do
      case $i in 4) say $a; a=;; 60) nap=0.02;; 135) nap=0.1;; 415) break;; esac
      kill -0 -"$pg" 2>/dev/null || { [ -z "$a" ] || say $a; exit 0; }
      i=$((i+1)); sleep $nap
    done; served "$1"; } </dev/null 5>&- 6>&- &
}
# The start's answer (unless the wait already sent it) and \`listening\`, in one write.
served() { printf '@@nh-%s %s\\n' \${a:+"$m" "$a"} "$m" "listening $1 $g"; }
say ready
while read -r op id; do
  untime
  case "$op" in
    build) b=$id; { setsid sh -c 'echo $$ > "$1.b" || exit 126; eval "exec $2"' nh-build "$p" "$build" > "$p.build" 2>&1
             rc=$?; rm -f "$p.b"; if [ "$rc" = 0 ]; then say built "$b"; else say build-failed "$b" "$rc"; fi; } 2>/dev/null </dev/null 5>&- 6>&- &
           bjob=$!; pid_of "$p.b" "$bjob"; build_pid=$mine ;;
    start) arm; halt "$p" "$job" "$handing"; keep; release || begin; watch "$id" ;;
    standby) prepare; say prepared "$id" ;;
    handoff) h=/dev/null; [ -z "$hb" ] || h="$p.handoff.$$.go"
             i=0; while [ "$i" -lt "$id" ] && IFS= read -r l; do printf '%s\\n' "$l"; i=$((i+1)); done > "$h"; [ -z "$hb" ] || handoff=$h ;;
    stop) halt "$p.b" "$bjob"; drop; halt "$p" "$job"; untime; say stopped "$id" "$was" ;;
  esac
done
# nh is gone: stop what this script started, never what a newer channel (nh reconnected) has started since.
drop; exec 6>&-; rm -f "$p".end.$$.* "$p.replaced.$$" "$p.handoff.$$.go"
[ -n "$build_pid" ] && [ "$(cat "$p.b" 2>/dev/null)" = "$build_pid" ] && halt "$p.b" "$bjob"
[ -n "$run_pid" ] && [ "$(cat "$p" 2>/dev/null)" = "$run_pid" ] && halt "$p" "$job"
untime
`;

/**
 * The standby's preload (CommonJS, run by `node --require` before the application's code): waits for the one
 * byte a start writes to its fifo. Ends the process quietly when the fifo reaches its end without it (the
 * script is gone): nothing would ever follow that process. The fifo's variable is removed from the environment:
 * a child the application forks inherits `--require` (execArgv) and passes straight through without it.
 */
export const STANDBY_PRELOAD = `'use strict';
// nh started this process ahead of time (a standby) and holds it here until it replaces the old one.
const fifo = process.env.NH_STANDBY_FIFO;
const after = process.env.NH_STANDBY_AFTER;
delete process.env.NH_STANDBY_FIFO;
delete process.env.NH_STANDBY_AFTER;
const fs = require('fs');
// Blocks until the fifo gives a byte (true) or reaches its end (false); undefined when it is gone already.
function wait(path) {
  let fd;
  try {
    fd = fs.openSync(path, 'r');
  } catch (error) {
    // Released, and its fifo already replaced by the next standby's: nothing left to wait for.
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
  const byte = Buffer.alloc(1);
  try {
    for (;;) {
      try {
        return fs.readSync(fd, byte, 0, 1, null) === 1;
      } catch (error) {
        if (error.code !== 'EAGAIN' && error.code !== 'EINTR') throw error;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}
// First the old process's end (its end fifo closes, or the script writes there once it saw the group end),
// then the start's byte; the fifo's end without it means the script is gone: nothing would follow this process.
if (after) wait(after);
if (fifo && wait(fifo) === false) process.exit(0);`;

/**
 * The command a standby runs. For `node` itself: the same command with nh's preload first, so Node boots ahead
 * and only the application's own start is left for the restart. For anything else (a built binary, npm, a
 * command with a debugger): a shell already forked, holding at its fifo until the start, then exec'ing the
 * command exactly as a fresh start would (the path is looked up at that moment, so a binary built meanwhile is
 * the one that runs); nothing of the command has run before, so it takes no port and no file early. Node with
 * the inspector at boot (it would take the debug port while the old process holds it) or its own --watch gets
 * that shell too.
 */
export function standbyCommand(run: readonly string[], preload: string): readonly string[] | undefined {
  const [program, ...args] = run;
  if (!program) return undefined;
  if (program.split('/').pop() === 'node' && !args.some((arg) => /^--(inspect|debug|watch)/.test(arg))) return [program, '--require', preload, ...args];
  return ['sh', '-c', HELD_START, 'nh-standby', ...run];
}

/**
 * A forked shell that waits for the old process's end, then for the start's byte on its fifo, then becomes the
 * command; ends quietly if the script goes first. Told to hand off (a line in the old end fifo, before the old
 * process is stopped), it becomes the helper running the command at once instead.
 */
const HELD_START = `[ -z "$NH_STANDBY_AFTER" ] || { read -r w o < "$NH_STANDBY_AFTER"
  [ "$w" = handoff ] && [ -x "$NH_HANDOFF" ] && { a=$NH_STANDBY_AFTER h=$NH_HANDOFF; unset NH_STANDBY_FIFO NH_STANDBY_AFTER NH_HANDOFF; exec "$h" "$o" "$a" "$@"; }; }
IFS= read -r _ < "$NH_STANDBY_FIFO" || exit 0; unset NH_STANDBY_FIFO NH_STANDBY_AFTER NH_HANDOFF; exec "$@"`;

/** Words quoted for sh, each in single quotes: eval gives them back exactly, nothing in them is expanded. */
export function quoteWords(words: readonly string[]): string {
  return words.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
}

export interface SupervisorCommand {
  readonly marker: string;
  readonly pidFile: string;
  readonly workDir: string;
  /** The port the process serves on; 0 = none (it counts as serving once started). */
  readonly port: number;
  readonly run: readonly string[];
  readonly build: readonly string[] | undefined;
  readonly graceSeconds: number;
  /** The run command of a standby (standbyCommand), or undefined for none. */
  readonly standby: readonly string[] | undefined;
  /** Restarts hand off (with a held-shell standby; the helper's source follows as a request: handoffRequest). */
  readonly handoff?: boolean;
}

export function supervisorCommandLine(command: SupervisorCommand): string[] {
  const grace = String(Math.max(1, Math.round(command.graceSeconds * 100)));
  const standby = command.standby ? [quoteWords(command.standby), STANDBY_PRELOAD] : ['', ''];
  const handoff = handsOff(command) ? [handoffHelperPath()] : [];
  // The script travels in the exec's URL: without its comment lines, which would double its size there (a proxy
  // in front of the API server refuses a long URL: 431 from Node's 16 KB default).
  const script = SUPERVISOR_SCRIPT.replace(/^[ \t]*#.*\n/gm, '');
  return ['sh', '-c', script, 'nh-supervisor', command.marker, command.pidFile, command.workDir, String(command.port), quoteWords(command.run), command.build ? quoteWords(command.build) : '', grace, ...standby, ...handoff];
}

/** Restarts hand off: asked for, and the standby is a held shell (not Node booted ahead). */
export function handsOff(command: Pick<SupervisorCommand, 'handoff' | 'standby'>): boolean {
  return Boolean(command.handoff) && command.standby?.[2] === HELD_START;
}

/** The request that gives the script the helper's source: its line count, then its lines. */
export function handoffRequest(): string {
  const lines = HANDOFF_HELPER_SOURCE.replace(/\n$/, '').split('\n');
  return `handoff ${lines.length}\n${lines.join('\n')}\n`;
}

/** Where the container keeps the hand-off helper: one per source, so a newer nh never runs an older helper. */
export function handoffHelperPath(): string {
  return `/tmp/.nh-handoff-${createHash('sha256').update(HANDOFF_HELPER_SOURCE).digest('hex').slice(0, 12)}`;
}

/** Where the script writes the standby's preload: beside the pid file. */
export function standbyPreloadOf(pidFile: string): string {
  return `${pidFile}.standby.cjs`;
}

export type SupervisorEvent =
  | { readonly kind: 'ready' }
  | { readonly kind: 'fatal'; readonly reason: string }
  | { readonly kind: 'built'; readonly id: number }
  | { readonly kind: 'build-failed'; readonly id: number; readonly exitCode: number }
  | { readonly kind: 'started'; readonly id: number; readonly generation: number; readonly stoppedOld: boolean }
  | { readonly kind: 'listening'; readonly id: number; readonly generation: number }
  | { readonly kind: 'stopped'; readonly id: number; readonly stoppedOld: boolean }
  | { readonly kind: 'prepared'; readonly id: number }
  | { readonly kind: 'exited'; readonly generation: number; readonly exitCode: number };

/**
 * Splits the script's stdout into the process's own output and the script's events. An event line may follow
 * output that did not end its line; the output before it is kept. A marker cut across chunks waits for the rest.
 */
export class SupervisorReader {
  private pending = Buffer.alloc(0);
  private readonly tag: Buffer;

  constructor(marker: string) {
    this.tag = Buffer.from(`@@nh-${marker} `);
  }

  push(chunk: Buffer): { output: Buffer[]; events: SupervisorEvent[] } {
    let data = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const output: Buffer[] = [];
    const events: SupervisorEvent[] = [];
    for (;;) {
      const at = data.indexOf(this.tag);
      if (at < 0) break;
      const end = data.indexOf(0x0a, at);
      if (end < 0) break;
      if (at > 0) output.push(data.subarray(0, at));
      const event = parseEvent(data.subarray(at + this.tag.length, end).toString('utf8'));
      if (event) events.push(event);
      data = data.subarray(end + 1);
    }
    // Keep back a tail that may be the start of a marker (or a marker line not ended yet).
    const at = data.indexOf(this.tag);
    const keep = at >= 0 ? data.length - at : partialTagLength(data, this.tag);
    if (data.length - keep > 0) output.push(data.subarray(0, data.length - keep));
    this.pending = Buffer.from(data.subarray(data.length - keep));
    return { output, events };
  }
}

/** How many bytes at the end of data are a beginning of tag. */
function partialTagLength(data: Buffer, tag: Buffer): number {
  for (let length = Math.min(tag.length - 1, data.length); length > 0; length--) {
    if (data.subarray(data.length - length).equals(tag.subarray(0, length))) return length;
  }
  return 0;
}

function parseEvent(line: string): SupervisorEvent | undefined {
  const [word, ...rest] = line.trim().split(' ');
  const n = rest.map(Number);
  switch (word) {
    case 'ready':
      return { kind: 'ready' };
    case 'fatal':
      return { kind: 'fatal', reason: rest.join(' ') };
    case 'built':
      return { kind: 'built', id: n[0]! };
    case 'build-failed':
      return { kind: 'build-failed', id: n[0]!, exitCode: n[1]! };
    case 'started':
      return { kind: 'started', id: n[0]!, generation: n[1]!, stoppedOld: rest[2] === 'stopped' };
    case 'listening':
      return { kind: 'listening', id: n[0]!, generation: n[1]! };
    case 'stopped':
      return { kind: 'stopped', id: n[0]!, stoppedOld: rest[1] === 'stopped' };
    case 'prepared':
      return { kind: 'prepared', id: n[0]! };
    case 'exited':
      return { kind: 'exited', generation: n[0]!, exitCode: n[1]! };
    default:
      return undefined;
  }
}
