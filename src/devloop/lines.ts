/** Splits a byte stream into whole lines (pure); a partial last line waits for the rest, or for flush(). */
export class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder();

  /** The complete lines in this chunk, without their line endings. */
  push(chunk: Uint8Array): string[] {
    const text = this.pending + this.decoder.decode(chunk, { stream: true });
    const lines = text.split(/\r?\n/);
    this.pending = lines.pop() ?? '';
    return lines;
  }

  /** The unterminated rest, if any (when the stream ends). */
  flush(): string[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return rest ? [rest] : [];
  }
}
