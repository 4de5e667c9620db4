// The application's single API client and event stream.

import { ApiClient, webLocks } from './client';
import { browserStorage, createTokenStore } from '@/shared/auth/tokenStore';
import { EventStream } from '@/shared/events/eventStream';

export const tokenStore = createTokenStore(browserStorage());

const lock = webLocks();
export const api = new ApiClient(lock ? { tokens: tokenStore, withLock: lock } : { tokens: tokenStore });

export const liveEvents = new EventStream({ client: api });
