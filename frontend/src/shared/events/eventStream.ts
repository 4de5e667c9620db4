// The live event stream (GET /api/v1/events). EventSource cannot send an Authorization
// header, and a token in the URL would end up in logs, so this reads the stream with fetch()
// and a ReadableStream, sending the bearer token, the chosen channels and Last-Event-ID. It
// reconnects by itself with backoff, refreshes the token once on 401 (through the API client)
// and resumes from the last event id so nothing in the server's backlog is missed.

import { logger } from '@/shared/utils/logger';
import type { ApiClient } from '@/shared/api/client';
import { SseParser, type SseMessage } from './sseParser';

export const EVENTS_PATH = '/api/v1/events';

export type StreamState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'unavailable' | 'closed';

export interface LiveEvent {
  id: string;
  /** The SSE event type, e.g. "files.file.uploaded". */
  type: string;
  channel: string;
  data: unknown;
  publishedAt?: string;
}

export type LiveHandler = (event: LiveEvent) => void;

export interface EventStreamOptions {
  client: ApiClient;
  /** Delays are multiplied by this (tests use 0). */
  backoffScale?: number;
  random?: () => number;
}

/** The channel an event belongs to: its data's "channel", else the type up to the first dot. */
export function channelOf(type: string, data: unknown): string {
  if (typeof data === 'object' && data !== null && 'channel' in data) {
    const c = (data as { channel: unknown }).channel;
    if (typeof c === 'string' && c) return c;
  }
  const dot = type.indexOf('.');
  return dot > 0 ? type.slice(0, dot) : type;
}

export function toLiveEvent(m: SseMessage): LiveEvent {
  let parsed: unknown = m.data;
  try {
    parsed = JSON.parse(m.data);
  } catch {
    // Not JSON: keep the text.
  }
  // The kernel's wire format: data is {channel, type, published_at, data, ...} and there is no
  // "event:" line; an "event:" line, when a server sends one, names the type.
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const o = parsed as Record<string, unknown>;
    const type = m.event !== 'message' ? m.event : typeof o.type === 'string' ? o.type : 'message';
    const wrapped = typeof o.channel === 'string' && 'data' in o;
    const ev: LiveEvent = { id: m.id, type, channel: channelOf(type, parsed), data: wrapped ? o.data : parsed };
    if (typeof o.published_at === 'string') ev.publishedAt = o.published_at;
    return ev;
  }
  const type = m.event !== 'message' ? m.event : 'message';
  return { id: m.id, type, channel: channelOf(type, parsed), data: parsed };
}

/** The permission the server requires to subscribe to a channel (kernel/src/events rules). */
export function channelPermission(channel: string): string {
  if (channel === 'system') return 'admin.system.read';
  if (channel === 'audit') return 'admin.audit_logs.read';
  return `${channel}.read`;
}

/** Exponential backoff with full jitter: 1 s, 2 s, 4 s ... capped at 30 s. */
export function backoffDelay(attempt: number, random: () => number, serverRetryMs: number | null): number {
  if (serverRetryMs !== null && attempt <= 1) return serverRetryMs;
  const cap = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export class EventStream {
  private readonly client: ApiClient;
  private readonly scale: number;
  private readonly random: () => number;
  private readonly handlers = new Map<string, Set<LiveHandler>>();
  private readonly stateListeners = new Set<(s: StreamState) => void>();
  private abort: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastEventId = '';
  private attempt = 0;
  private generation = 0;
  private retryMs: number | null = null;
  state: StreamState = 'idle';

  constructor(opts: EventStreamOptions) {
    this.client = opts.client;
    this.scale = opts.backoffScale ?? 1;
    this.random = opts.random ?? Math.random;
  }

  /** Listen to one channel ('*' for all). The connection follows the set of channels. */
  subscribe(channel: string, handler: LiveHandler): () => void {
    let set = this.handlers.get(channel);
    const added = !set;
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    set.add(handler);
    if (added) this.scheduleRestart();
    return () => {
      const s = this.handlers.get(channel);
      if (!s) return;
      s.delete(handler);
      if (s.size === 0) {
        this.handlers.delete(channel);
        this.scheduleRestart();
      }
    };
  }

  onState(listener: (s: StreamState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  channels(): string[] {
    return [...this.handlers.keys()].filter((c) => c !== '*').sort();
  }

  /** (Re)connect with the current subscriptions, e.g. after signing in again. */
  start(): void {
    this.scheduleRestart();
  }

  close(): void {
    this.generation += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort?.abort();
    this.abort = null;
    this.setState('closed');
  }

  private setState(s: StreamState): void {
    if (this.state === s) return;
    this.state = s;
    this.stateListeners.forEach((l) => l(s));
  }

  private scheduleRestart(): void {
    // Coalesce the subscriptions of one render into one reconnect.
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.restart();
    }, 0);
  }

  private restart(): void {
    this.generation += 1;
    this.abort?.abort();
    this.abort = null;
    if (this.handlers.size === 0) {
      this.setState('idle');
      return;
    }
    this.attempt = 0;
    void this.run(this.generation);
  }

  private async run(gen: number): Promise<void> {
    while (gen === this.generation) {
      this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
      const outcome = await this.connectOnce(gen);
      if (gen !== this.generation) return;
      if (outcome === 'stop') {
        this.setState('closed');
        return;
      }
      if (outcome === 'unavailable') this.setState('unavailable');
      this.attempt += 1;
      const delay = outcome === 'unavailable' ? 60_000 : backoffDelay(this.attempt, this.random, this.retryMs);
      await new Promise<void>((resolve) => {
        this.timer = setTimeout(() => {
          this.timer = null;
          resolve();
        }, delay * this.scale);
      });
    }
  }

  /** One connection: 'retry' when it ended or failed, 'unavailable' when the server has no stream, 'stop' when signed out. */
  private async connectOnce(gen: number): Promise<'retry' | 'unavailable' | 'stop'> {
    const ctrl = new AbortController();
    this.abort = ctrl;
    const headers: Record<string, string> = { Accept: 'text/event-stream', 'Cache-Control': 'no-cache' };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    const channels = this.channels();
    let res: Response;
    try {
      res = await this.client.send('GET', EVENTS_PATH, {
        query: channels.length ? { channels: channels.join(',') } : {},
        headers,
        signal: ctrl.signal,
      });
    } catch (err) {
      if (ctrl.signal.aborted) return 'retry';
      logger.debug('event stream: connect failed', { error: String(err) });
      return 'retry';
    }
    if (res.status === 401) return this.client.tokens.get() ? 'retry' : 'stop';
    // 403: a channel or the stream itself is not allowed; 404: no stream on this server.
    if (res.status === 403 || res.status === 404 || res.status === 501) return 'unavailable';
    if (!res.ok || !res.body) return 'retry';
    this.setState('open');
    const parser = new SseParser();
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || gen !== this.generation) break;
        const messages = parser.push(decoder.decode(value, { stream: true }));
        if (parser.retryMs !== null) this.retryMs = parser.retryMs;
        if (messages.length) this.attempt = 0;
        for (const m of messages) this.deliver(m);
        if (parser.lastEventId) this.lastEventId = parser.lastEventId;
      }
    } catch (err) {
      if (!ctrl.signal.aborted) logger.debug('event stream: read failed', { error: String(err) });
    } finally {
      try {
        reader.releaseLock();
      } catch {
        // already released
      }
    }
    return 'retry';
  }

  private deliver(m: SseMessage): void {
    const ev = toLiveEvent(m);
    if (m.id) this.lastEventId = m.id;
    const targets = [...(this.handlers.get(ev.channel) ?? []), ...(this.handlers.get('*') ?? [])];
    for (const h of targets) {
      try {
        h(ev);
      } catch (err) {
        logger.error('event handler failed', { type: ev.type, error: String(err) });
      }
    }
  }
}
