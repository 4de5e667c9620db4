// The status bar under every page: server readiness (database, Redis, migrations), worker
// processes when the queue routes exist, and the live stream's connection state.

import { useEffect, useState } from 'react';
import { systemService } from '../services/systemService';
import { workerService } from '@/features/worker/services/workerService';
import { ApiError } from '@/shared/api/types';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';
import { useStreamState } from '@/shared/hooks/useLiveEvents';
import { StatusBadge, toneOf, type Tone } from '@/shared/components/Feedback';

const POLL_MS = 15_000;

interface Snapshot {
  server: string;
  checks: Record<string, string>;
  workers: string;
  workerTone: Tone;
}

export function StatusBar() {
  const { can } = useSession();
  const stream = useStreamState();
  const mayWorker = can(perms.workerRead);
  const [snap, setSnap] = useState<Snapshot>({ server: 'checking', checks: {}, workers: 'unknown', workerTone: 'neutral' });

  useEffect(() => {
    let alive = true;
    const poll = async (): Promise<void> => {
      let server = 'down';
      let checks: Record<string, string> = {};
      try {
        const r = await systemService.ready();
        server = r.status;
        checks = r.checks;
      } catch {
        server = 'down';
      }
      let workers = 'unknown';
      let workerTone: Tone = 'neutral';
      if (mayWorker) {
        try {
          const s = await workerService.stats();
          workers = `${s.processes_size} process${s.processes_size === 1 ? '' : 'es'}`;
          workerTone = s.processes_size > 0 ? 'ok' : 'bad';
        } catch (err) {
          workers = err instanceof ApiError && err.status === 404 ? 'not reported' : 'unknown';
        }
      }
      if (alive) setSnap({ server, checks, workers, workerTone });
    };
    void poll();
    const t = setInterval(() => void poll(), POLL_MS);
    return () => {
      alive = false;
      clearInterval(t);
    };
  }, [mayWorker]);

  const streamTone: Tone = stream === 'open' ? 'ok' : stream === 'unavailable' || stream === 'closed' ? 'neutral' : 'warn';
  return (
    <footer className="flex flex-wrap items-center gap-3 border-t border-theme-border bg-theme-surface px-4 py-1.5 text-xs" aria-label="System status" data-testid="status-bar">
      <span className="flex items-center gap-1">
        Server <StatusBadge tone={toneOf(snap.server)}>{snap.server}</StatusBadge>
      </span>
      {Object.entries(snap.checks).map(([k, v]) => (
        <span key={k} className="flex items-center gap-1">
          {k} <StatusBadge tone={toneOf(v)}>{v}</StatusBadge>
        </span>
      ))}
      {mayWorker ? (
        <span className="flex items-center gap-1">
          Workers <StatusBadge tone={snap.workerTone}>{snap.workers}</StatusBadge>
        </span>
      ) : null}
      <span className="ml-auto flex items-center gap-1">
        Live updates <StatusBadge tone={streamTone}>{stream}</StatusBadge>
      </span>
    </footer>
  );
}
