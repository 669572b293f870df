/** Where the CLI writes, and whether it may use color: never when NO_COLOR is set or output is not a TTY. */
export interface Terminal {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly color: boolean;
  readonly interactive: boolean;
}

export interface Style {
  readonly red: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly green: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

export function styleFor(color: boolean): Style {
  return color
    ? { red: wrap(31, 39), yellow: wrap(33, 39), green: wrap(32, 39), dim: wrap(2, 22), bold: wrap(1, 22) }
    : { red: plain, yellow: plain, green: plain, dim: plain, bold: plain };
}

export function processTerminal(noColorFlag: boolean): Terminal {
  const env = process.env;
  const tty = Boolean(process.stdout.isTTY);
  // A closed pipe (`nh validate | head`) is not an error worth a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const color = !noColorFlag && !('NO_COLOR' in env && env['NO_COLOR'] !== '') && env['TERM'] !== 'dumb' && (tty || Boolean(env['FORCE_COLOR']));
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    color,
    interactive: tty && Boolean(process.stdin.isTTY),
  };
}
