import { describe, expect, it } from 'vitest';
import { SseParser } from './sseParser';
import { backoffDelay, channelPermission, toLiveEvent } from './eventStream';

describe('SseParser', () => {
  it('parses events, ids, types, comments and multi-line data', () => {
    const p = new SseParser();
    const out = p.push(': hello\nretry: 3000\nid: 1-0\ndata: {"a":1}\n\nevent: custom\ndata: line1\ndata: line2\n\n');
    expect(out).toEqual([
      { event: 'message', data: '{"a":1}', id: '1-0' },
      { event: 'custom', data: 'line1\nline2', id: '1-0' },
    ]);
    expect(p.retryMs).toBe(3000);
    expect(p.lastEventId).toBe('1-0');
  });

  it('gives the same events whatever the chunk boundaries and line endings', () => {
    const stream = 'id: 5-1\r\ndata: x\r\n\r\n:hb\r\rdata:y\rid:6-0\r\r' + 'data:  z\n\n';
    const expected = [
      { event: 'message', data: 'x', id: '5-1' },
      { event: 'message', data: 'y', id: '6-0' },
      { event: 'message', data: ' z', id: '6-0' },
    ];
    expect(new SseParser().push(stream)).toEqual(expected);
    for (let cut = 1; cut < stream.length; cut++) {
      const p = new SseParser();
      const got = [...p.push(stream.slice(0, cut)), ...p.push(stream.slice(cut))];
      expect(got, `cut at ${cut}`).toEqual(expected);
    }
    const p = new SseParser();
    const bytewise = [...stream].flatMap((c) => p.push(c));
    expect(bytewise).toEqual(expected);
  });

  it('ignores events without data, unknown fields and ids with NUL', () => {
    const p = new SseParser();
    expect(p.push('event: x\n\nfoo: bar\nid: a\u0000b\ndata\n\n')).toEqual([{ event: 'message', data: '', id: '' }]);
    expect(p.push('retry: soon\n\n')).toEqual([]);
    expect(p.retryMs).toBeNull();
  });

  it('keeps an unfinished event until its blank line arrives', () => {
    const p = new SseParser();
    expect(p.push('data: part')).toEqual([]);
    expect(p.push('ial\n')).toEqual([]);
    expect(p.push('\n')).toEqual([{ event: 'message', data: 'partial', id: '' }]);
  });
});

describe('live event decoding', () => {
  it('unwraps the kernel envelope', () => {
    const ev = toLiveEvent({
      event: 'message',
      id: '17-0',
      data: JSON.stringify({ channel: 'files.files', type: 'file.uploaded', account_id: 'a', permission: 'files.files.read', published_at: '2026-01-01T00:00:00Z', data: { id: 'f1' } }),
    });
    expect(ev).toEqual({ id: '17-0', type: 'file.uploaded', channel: 'files.files', data: { id: 'f1' }, publishedAt: '2026-01-01T00:00:00Z' });
  });

  it('maps channels to the permission the server checks', () => {
    expect(channelPermission('audit')).toBe('admin.audit_logs.read');
    expect(channelPermission('system')).toBe('admin.system.read');
    expect(channelPermission('files.files')).toBe('files.files.read');
  });

  it('backs off exponentially with a cap and honours the server retry first', () => {
    const mid = (): number => 0.5;
    expect(backoffDelay(1, mid, 3000)).toBe(3000);
    expect(backoffDelay(2, mid, 3000)).toBe(3000);
    expect(backoffDelay(1, mid, null)).toBe(1500);
    expect(backoffDelay(10, () => 1, null)).toBe(30000);
    expect(backoffDelay(10, () => 0, null)).toBe(15000);
  });
});
