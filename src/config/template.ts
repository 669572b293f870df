/**
 * Nocalhost's templating, applied to a config file's text before YAML parsing (as nhctl does):
 *   $NAME, ${NAME}                 value of NAME, empty when unset
 *   ${NAME:-word} ${NAME:=word}    word when NAME is unset or empty
 *   ${NAME-word}  ${NAME=word}     word when NAME is unset
 *   ${NAME:+word} ${NAME+word}     word when NAME is set, else empty
 *   $$                             a literal $
 *   ${_INCLUDE_:- path | nindent N}  the rendered text of another file (relative to this one),
 *                                   each line indented by N after a newline (`indent N`: no newline)
 * Variables come from the process environment first, then from `configProperties.envFile`.
 */
import { MappedText, positionIn, type SourceFile } from './source-text.js';
import type { Problem } from './problems.js';

export interface TemplateInputs {
  /** Value of a variable, or undefined when it is not set. */
  readonly lookup: (name: string) => string | undefined;
  /** Reads a file named by `_INCLUDE_`, resolved against the including file. */
  readonly readInclude: (from: SourceFile, path: string) => SourceFile | { readonly error: string };
}

export interface RenderResult {
  readonly text: MappedText;
  readonly problems: Problem[];
}

const NAME_CHAR = /[A-Za-z0-9_]/;
const INCLUDE = '_INCLUDE_';

/**
 * Bounds on what templating may produce: includes that include a file twice, nested, double the text at each
 * level (20 levels: a million copies), and a file of `$a1 $a2 …` would give a warning per variable.
 */
export const TEMPLATE_LIMITS = { includes: 100, chars: 2 * 1024 * 1024, unsetReported: 100 } as const;

/** Shared by a file and everything it includes. */
interface RenderState {
  readonly problems: Problem[];
  /** Unset variables already reported: each is reported once, at its first use. */
  readonly unset: Set<string>;
  includes: number;
}

export function renderTemplate(file: SourceFile, inputs: TemplateInputs): RenderResult {
  const state: RenderState = { problems: [], unset: new Set(), includes: 0 };
  const text = render(file, inputs, state, [file.path]);
  return { text, problems: state.problems };
}

function render(file: SourceFile, inputs: TemplateInputs, state: RenderState, chain: string[]): MappedText {
  const src = file.text;
  const out = MappedText.builder(file);
  const problem = (at: number, code: string, severity: Problem['severity'], message: string, hint?: string) =>
    state.problems.push({ ...positionIn(file, at), severity, code, message, ...(hint ? { hint } : {}) });
  const unset = (at: number, name: string, message: string, hint: string) => {
    if (state.unset.has(name)) return;
    state.unset.add(name);
    if (state.unset.size <= TEMPLATE_LIMITS.unsetReported) problem(at, 'template-unset', 'warning', message, hint);
    else if (state.unset.size === TEMPLATE_LIMITS.unsetReported + 1) {
      problem(at, 'template-unset', 'warning', `more than ${TEMPLATE_LIMITS.unsetReported} variables are not set; the others are not listed`, 'is this text meant to be templated? Write $$ for a literal $');
    }
  };

  // Whether the line of `at` is a full-line comment, worked out once per line, so a long line of `$` stays linear.
  let line = { start: 0, end: -1, comment: false };
  const inCommentLine = (at: number) => {
    if (at > line.end) {
      const start = src.lastIndexOf('\n', at - 1) + 1;
      const newline = src.indexOf('\n', at);
      const end = newline < 0 ? src.length : newline;
      line = { start, end, comment: /^[ \t]*#/.test(src.slice(start, end)) };
    }
    return line.comment;
  };
  let i = 0;
  let textStart = 0;
  const flushText = (end: number) => {
    if (end > textStart) out.copy(src.slice(textStart, end), file, textStart);
  };

  while (i < src.length) {
    const dollar = src.indexOf('$', i);
    if (dollar < 0) break;
    if (inCommentLine(dollar)) {
      // A full-line comment is dropped by YAML anyway; editors' modelines such as `$schema=` stay quiet.
      i = line.end;
      continue;
    }
    const next = src[dollar + 1];
    if (next === '$') {
      flushText(dollar);
      out.copy('$', file, dollar);
      i = textStart = dollar + 2;
      continue;
    }
    if (next === '{') {
      const expr = parseBraced(src, dollar);
      if (!expr) {
        problem(dollar, 'template-unclosed', 'error', 'unclosed `${`: the expression has no closing `}`',
          'close it with `}`, or write `$${` for a literal `${`');
        i = dollar + 2;
        continue;
      }
      flushText(dollar);
      if (expr.name === INCLUDE) {
        spliceInclude(file, dollar, expr.word ?? '', inputs, state, chain, out);
      } else if (!/^[A-Za-z0-9_]+$/.test(expr.name)) {
        problem(dollar, 'template-invalid', 'error', `\`\${${expr.name}${expr.op ?? ''}${expr.word ?? ''}}\` is not a valid expression`,
          'use ${NAME}, ${NAME:-default} (names are letters, digits and _)');
        out.copy(src.slice(dollar, expr.end), file, dollar);
      } else {
        const value = substitute(expr, inputs.lookup);
        if (value === undefined) {
          unset(dollar, expr.name, `\`\${${expr.name}}\` is not set and becomes an empty string`,
            `set ${expr.name} in the environment or configProperties.envFile, give a default with \${${expr.name}:-value}, or write $\${${expr.name}} to keep it literal`);
        }
        out.synthesize(value ?? '', file, dollar);
      }
      i = textStart = expr.end;
      continue;
    }
    if (next !== undefined && NAME_CHAR.test(next)) {
      let end = dollar + 1;
      while (end < src.length && NAME_CHAR.test(src[end]!)) end++;
      const name = src.slice(dollar + 1, end);
      if (name === '_') {
        i = end;
        continue;
      }
      flushText(dollar);
      const value = inputs.lookup(name);
      if (value === undefined) {
        unset(dollar, name, `\`$${name}\` is not set and becomes an empty string`,
          `set ${name} in the environment or configProperties.envFile, or write $$${name} to pass it on literally (e.g. to the container's shell)`);
      }
      out.synthesize(value ?? '', file, dollar);
      i = textStart = end;
      continue;
    }
    i = dollar + 1;
  }
  flushText(src.length);
  return out.build();
}

interface Braced {
  readonly name: string;
  readonly op: ':-' | ':=' | ':+' | '-' | '=' | '+' | undefined;
  readonly word: string | undefined;
  /** Offset just past the closing brace. */
  readonly end: number;
}

/** Parses `${…}` starting at `start`; nested `${…}` in the word are kept as text for a second pass. */
function parseBraced(src: string, start: number): Braced | undefined {
  let depth = 0;
  let close = -1;
  for (let j = start + 2; j < src.length; j++) {
    if (src[j] === '$' && src[j + 1] === '{') {
      depth++;
      j++;
    } else if (src[j] === '}') {
      if (depth === 0) {
        close = j;
        break;
      }
      depth--;
    }
  }
  if (close < 0) return undefined;
  const body = src.slice(start + 2, close);
  const m = /^([^:=+\-}]*)(:-|:=|:\+|-|=|\+)?([\s\S]*)$/.exec(body);
  const name = (m?.[1] ?? body).trim();
  const op = m?.[2] as Braced['op'];
  return { name, op, word: op ? (m?.[3] ?? '') : undefined, end: close + 1 };
}

function substitute(expr: Braced, lookup: TemplateInputs['lookup']): string | undefined {
  const value = lookup(expr.name);
  const word = expandWord(expr.word ?? '', lookup);
  switch (expr.op) {
    case ':-':
    case ':=':
      return value ? value : word;
    case '-':
    case '=':
      return value === undefined ? word : value;
    case ':+':
    case '+':
      return value === undefined ? '' : word;
    case undefined:
      return value;
  }
}

/** A default may itself name a variable: ${A:-$B} or ${A:-${B}}. */
function expandWord(word: string, lookup: TemplateInputs['lookup']): string {
  return word.replace(/\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)/g, (_, braced?: string, bare?: string) => lookup((braced ?? bare)!) ?? '');
}

function spliceInclude(
  from: SourceFile,
  at: number,
  word: string,
  inputs: TemplateInputs,
  state: RenderState,
  chain: string[],
  out: ReturnType<typeof MappedText.builder>,
): void {
  const problem = (code: string, message: string, hint: string) =>
    state.problems.push({ ...positionIn(from, at), severity: 'error', code, message, hint });
  const [pathPart = '', ...filters] = word.split('|').map((s) => s.trim());
  let indent = 0;
  let newline = false;
  for (const filter of filters) {
    const m = /^(n?indent)\s+(\d+)$/.exec(filter);
    if (!m) {
      problem('include-filter', `unknown _INCLUDE_ filter \`${filter}\``, 'the filters are `nindent N` and `indent N`');
      return;
    }
    newline = m[1] === 'nindent';
    indent = Number(m[2]);
  }
  if (!pathPart) {
    problem('include-path', '_INCLUDE_ names no file', 'write ${_INCLUDE_:- ./path/to/file.yaml | nindent 2}');
    return;
  }
  const included = inputs.readInclude(from, pathPart);
  if ('error' in included) {
    problem('include-unreadable', `cannot include \`${pathPart}\`: ${included.error}`, 'the path is relative to the file that includes it');
    return;
  }
  if (chain.includes(included.path)) {
    problem('include-cycle', `include cycle: ${[...chain, included.path].join(' → ')}`, 'remove one of the includes in that chain');
    return;
  }
  if (++state.includes > TEMPLATE_LIMITS.includes) {
    problem('include-too-many', `more than ${TEMPLATE_LIMITS.includes} files are included`, 'a file included more than once by files included more than once multiplies; include each file once');
    return;
  }
  const rendered = render(included, inputs, state, [...chain, included.path]);
  if (out.size + rendered.text.length > TEMPLATE_LIMITS.chars) {
    problem('include-too-large', `including \`${pathPart}\` makes the config longer than ${TEMPLATE_LIMITS.chars / 1024 / 1024} MiB`, 'a file included more than once by files included more than once multiplies; include each file once');
    return;
  }
  const pad = ' '.repeat(indent);
  if (newline) out.synthesize('\n', from, at);
  let atLineStart = true;
  for (const seg of rendered.segments()) {
    // Split at newlines so every line of the included text gets the indent.
    let pos = 0;
    while (pos < seg.text.length) {
      if (atLineStart && indent > 0) out.synthesize(pad, from, at);
      atLineStart = false;
      const nl = seg.text.indexOf('\n', pos);
      const end = nl < 0 ? seg.text.length : nl + 1;
      const chunk = seg.text.slice(pos, end);
      if (seg.verbatim) out.copy(chunk, seg.file, seg.srcStart + pos);
      else out.synthesize(chunk, seg.file, seg.srcStart);
      if (nl >= 0) atLineStart = true;
      pos = end;
    }
  }
}
