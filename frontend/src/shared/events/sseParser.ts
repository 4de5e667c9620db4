// An incremental parser for the text/event-stream format (WHATWG HTML §9.2): feed it decoded
// text in arbitrary pieces, get whole events back. Handles CR, LF and CRLF line ends (also
// a CRLF split across two pieces), comments, multi-line data, id and retry fields.

export interface SseMessage {
  /** The event type ("message" when the server named none). */
  event: string;
  data: string;
  /** The last event id in force when this event was dispatched ('' when none). */
  id: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private lastId = '';
  private sawCR = false;
  /** Set by a "retry:" field: the reconnection delay the server asks for, in ms. */
  retryMs: number | null = null;

  get lastEventId(): string {
    return this.lastId;
  }

  push(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = chunk;
    // A CR that ended the previous piece already ended its line; skip the LF of a CRLF.
    if (this.sawCR && text.startsWith('\n')) text = text.slice(1);
    this.sawCR = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(this.buffer.slice(start, i), out);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i += 1;
        } else {
          this.sawCR = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === '') {
      this.dispatch(out);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\u0000')) this.lastId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(out: SseMessage[]): void {
    if (this.data.length === 0) {
      this.eventType = '';
      return;
    }
    out.push({ event: this.eventType || 'message', data: this.data.join('\n'), id: this.lastId });
    this.data = [];
    this.eventType = '';
  }
}
