/**
 * Incremental Server-Sent Events splitter. It sits beside a proxied stream: it never alters or holds
 * back bytes, it only says where each event ends and what it carries, so the gateway can read usage on
 * the side and still forward (or drop) events byte-exact.
 *
 * Field parsing follows https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */

/** Default bound on one event: past it the event is passed through in `oversized` fragments, unparsed. */
export const DEFAULT_MAX_EVENT_CHARS = 8 * 1024 * 1024;

/** One block of the stream (an event, or a block of comments / blank lines), in arrival order. */
export interface SseEvent {
  /**
   * Exact original text of the block, its terminating blank line included: concatenating the `raw` of
   * every event returned by `push` and `end` gives back the input. One quirk: when a CRLF is split across
   * chunks right after a blank line, the event ends with the CR and the LF opens the next block's `raw`.
   */
  raw: string;
  /** Value of the block's `event:` field; null when absent or empty (SSE's default type "message"). */
  event: string | null;
  /** The block's `data:` lines joined by `\n`; '' when it has none (nothing to dispatch). */
  data: string;
  /** The block's `id:` field, when it has one. */
  id?: string;
  /** The block's `retry:` field in milliseconds, when it has a valid one. */
  retry?: number;
  /** The block outgrew the size limit: `raw` is one fragment of it and `event`/`data` are not parsed. */
  oversized?: boolean;
}

const LF = 10;
const CR = 13;
const SPACE = 32;

export class SseSplitter {
  // ignoreBOM keeps a leading BOM in the text, so that `raw` stays byte-exact.
  #decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  readonly #maxChars: number;
  /** Raw text of the complete lines of the block being read. */
  #raw = '';
  /** The line being read, not yet terminated. */
  #line = '';
  #event: string | null = null;
  #data: string[] = [];
  #id: string | undefined;
  #retry: number | undefined;
  /** The last character seen was a CR ending a chunk: a LF right after it is the same line break. */
  #afterCr = false;
  /** Passing through the rest of an oversized block until its blank line. */
  #skipping = false;
  /** While skipping: nothing but line breaks since the last break, so the next break ends the block. */
  #skipAtLineStart = true;
  /** No line parsed yet: a leading BOM must be ignored by the field parser. */
  #atStart = true;

  constructor(options?: { maxEventChars?: number }) {
    this.#maxChars = options?.maxEventChars ?? DEFAULT_MAX_EVENT_CHARS;
  }

  /** Feeds the next chunk (bytes or already-decoded text); returns the events it completed. */
  push(chunk: Uint8Array | string): SseEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    return this.#scan(text);
  }

  /** Ends the stream: returns what the last chunks completed, plus a final block without its blank line. */
  end(): SseEvent[] {
    const out = this.#scan(this.#decoder.decode());
    if (!this.#skipping && (this.#raw !== '' || this.#line !== '')) {
      if (this.#line !== '') this.#field(this.#line);
      out.push(this.#take(this.#raw + this.#line));
    }
    this.#decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    this.#line = '';
    this.#afterCr = false;
    this.#skipping = false;
    this.#skipAtLineStart = true;
    this.#atStart = true;
    return out;
  }

  #scan(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    const n = text.length;
    let pos = 0;
    // Next LF / CR positions are cached: re-searching from every line would be quadratic on long chunks.
    let nextLf = -2;
    let nextCr = -2;
    while (pos < n) {
      if (this.#skipping) {
        pos = this.#skip(text, pos, out);
        nextLf = nextCr = -2;
        continue;
      }
      if (this.#afterCr) {
        this.#afterCr = false;
        if (text.charCodeAt(pos) === LF) {
          this.#raw += '\n';
          pos++;
          continue;
        }
      }
      if (nextLf !== -1 && nextLf < pos) nextLf = text.indexOf('\n', pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = text.indexOf('\r', pos);
      const brk = nextLf < 0 ? nextCr : nextCr < 0 ? nextLf : Math.min(nextLf, nextCr);
      if (brk < 0) {
        this.#line += text.slice(pos);
        if (this.#raw.length + this.#line.length > this.#maxChars) this.#overflow(out);
        break;
      }
      let end = brk + 1;
      if (text.charCodeAt(brk) === CR) {
        if (end === n) this.#afterCr = true;
        else if (text.charCodeAt(end) === LF) end++;
      }
      const line = this.#line + text.slice(pos, brk);
      const lineBreak = text.slice(brk, end);
      this.#line = '';
      pos = end;
      if (line === '') {
        out.push(this.#take(this.#raw + lineBreak));
        continue;
      }
      this.#raw += line + lineBreak;
      this.#field(line);
      if (this.#raw.length > this.#maxChars) this.#overflow(out);
    }
    return out;
  }

  #field(line: string): void {
    if (this.#atStart) {
      this.#atStart = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment (keep-alive pings, provider notes)
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === SPACE) value = value.slice(1);
    switch (name) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value === '' ? null : value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value; // the spec ignores ids containing NUL
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default: // unknown fields are ignored, as the spec says
    }
  }

  /** Returns the block read so far with the given raw text, and starts a new one. */
  #take(raw: string): SseEvent {
    const e: SseEvent = { raw, event: this.#event, data: this.#data.join('\n') };
    if (this.#id !== undefined) e.id = this.#id;
    if (this.#retry !== undefined) e.retry = this.#retry;
    this.#raw = '';
    this.#event = null;
    this.#data = [];
    this.#id = undefined;
    this.#retry = undefined;
    return e;
  }

  /** The block is too big to buffer: hand over what we hold and pass the rest through unparsed. */
  #overflow(out: SseEvent[]): void {
    const raw = this.#raw + this.#line;
    const event = this.#event;
    this.#take('');
    this.#skipAtLineStart = this.#line === '';
    this.#line = '';
    this.#skipping = true;
    out.push({ raw, event, data: '', oversized: true });
  }

  /** Passes text through until the blank line that ends the oversized block; returns where it stopped. */
  #skip(text: string, pos: number, out: SseEvent[]): number {
    const n = text.length;
    let atLineStart = this.#skipAtLineStart;
    let i = pos;
    if (this.#afterCr) {
      this.#afterCr = false;
      if (text.charCodeAt(i) === LF) i++;
    }
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== CR && c !== LF) {
        atLineStart = false;
        i++;
        continue;
      }
      let end = i + 1;
      if (c === CR) {
        if (end === n) this.#afterCr = true;
        else if (text.charCodeAt(end) === LF) end++;
      }
      if (atLineStart) {
        out.push({ raw: text.slice(pos, end), event: null, data: '', oversized: true });
        this.#skipping = false;
        this.#skipAtLineStart = true;
        return end;
      }
      atLineStart = true;
      i = end;
    }
    this.#skipAtLineStart = atLineStart;
    if (n > pos) out.push({ raw: text.slice(pos), event: null, data: '', oversized: true });
    return n;
  }
}
