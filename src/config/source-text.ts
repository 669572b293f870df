/**
 * Text as it reached the YAML parser, with a map back to the files it came from: templating
 * (`${VAR}`, `_INCLUDE_`) changes lengths and splices files, yet every problem must point at the
 * line and column the user wrote.
 */
import type { SourcePosition } from './problems.js';

export interface SourceFile {
  /** Path as shown to the user (relative to the working directory when possible). */
  readonly path: string;
  readonly text: string;
}

/** A run of output text: copied verbatim from `file` at `srcStart`, or made up (a substituted value). */
interface Piece {
  readonly outStart: number;
  readonly length: number;
  readonly file: SourceFile;
  readonly srcStart: number;
  readonly verbatim: boolean;
}

export class MappedText {
  private constructor(
    readonly text: string,
    private readonly pieces: readonly Piece[],
    private readonly fallback: SourceFile,
  ) {}

  /** Where an offset of the output text came from. */
  origin(offset: number): { file: SourceFile; offset: number } {
    const piece = this.pieceAt(offset);
    if (!piece) return { file: this.fallback, offset: 0 };
    return { file: piece.file, offset: piece.verbatim ? piece.srcStart + (offset - piece.outStart) : piece.srcStart };
  }

  position(offset: number): SourcePosition {
    const { file, offset: srcOffset } = this.origin(offset);
    return positionIn(file, srcOffset);
  }

  /** Iterates pieces with their text, for splicing this text into another. */
  *segments(): Iterable<{ text: string; file: SourceFile; srcStart: number; verbatim: boolean }> {
    for (const p of this.pieces) {
      yield { text: this.text.slice(p.outStart, p.outStart + p.length), file: p.file, srcStart: p.srcStart, verbatim: p.verbatim };
    }
  }

  private pieceAt(offset: number): Piece | undefined {
    let lo = 0;
    let hi = this.pieces.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const p = this.pieces[mid]!;
      if (offset < p.outStart) hi = mid - 1;
      else if (offset >= p.outStart + p.length && mid < this.pieces.length - 1) lo = mid + 1;
      else return p;
    }
    return this.pieces[Math.max(0, Math.min(lo, this.pieces.length - 1))];
  }

  /** `file` is where an empty result points. */
  static builder(file: SourceFile): MappedTextBuilder {
    return new MappedTextBuilder(file);
  }

  /** @internal used by the builder */
  static fromParts(text: string, pieces: Piece[], fallback: SourceFile): MappedText {
    return new MappedText(text, pieces, fallback);
  }
}

export class MappedTextBuilder {
  private readonly parts: string[] = [];
  private readonly pieces: Piece[] = [];
  private length = 0;

  constructor(private readonly fallback: SourceFile) {}

  /** Characters appended so far. */
  get size(): number {
    return this.length;
  }

  /** Appends text copied from `file` starting at `srcStart`. */
  copy(text: string, file: SourceFile, srcStart: number): this {
    return this.push(text, file, srcStart, true);
  }

  /** Appends text that does not stand in any file (a value, an indent); it maps to `srcAt`. */
  synthesize(text: string, file: SourceFile, srcAt: number): this {
    return this.push(text, file, srcAt, false);
  }

  build(): MappedText {
    return MappedText.fromParts(this.parts.join(''), this.pieces, this.fallback);
  }

  private push(text: string, file: SourceFile, srcStart: number, verbatim: boolean): this {
    if (text.length === 0) return this;
    this.parts.push(text);
    this.pieces.push({ outStart: this.length, length: text.length, file, srcStart, verbatim });
    this.length += text.length;
    return this;
  }
}

const lineStartsCache = new WeakMap<SourceFile, number[]>();

function lineStarts(file: SourceFile): number[] {
  let starts = lineStartsCache.get(file);
  if (!starts) {
    starts = [0];
    for (let i = 0; i < file.text.length; i++) if (file.text.charCodeAt(i) === 10) starts.push(i + 1);
    lineStartsCache.set(file, starts);
  }
  return starts;
}

/** 1-based line and column (in characters) of an offset. */
export function positionIn(file: SourceFile, offset: number): SourcePosition {
  const starts = lineStarts(file);
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { file: file.path, line: lo + 1, col: offset - starts[lo]! + 1 };
}
