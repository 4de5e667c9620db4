// Subscribe a component to one channel of the live event stream.

import { useEffect, useRef, useState } from 'react';
import { liveEvents } from '@/shared/api/instance';
import { channelPermission, type LiveEvent, type StreamState } from '@/shared/events/eventStream';
import { useSession } from '@/shared/auth/AuthContext';
import { perms } from '@/shared/auth/permissions';

/** The server refuses the whole stream when one selected channel is not allowed, so only
 * channels the user holds the permission for are subscribed. Returns whether it is live. */
export function useLiveEvents(channel: string | null, handler: (e: LiveEvent) => void): boolean {
  const { can } = useSession();
  const ref = useRef(handler);
  ref.current = handler;
  const allowed = channel !== null && can(perms.eventsStream) && can(channelPermission(channel));
  useEffect(() => {
    if (!channel || !allowed) return undefined;
    return liveEvents.subscribe(channel, (e) => ref.current(e));
  }, [channel, allowed]);
  return allowed;
}

export function useStreamState(): StreamState {
  const [state, setState] = useState<StreamState>(liveEvents.state);
  useEffect(() => liveEvents.onState(setState), []);
  return state;
}
