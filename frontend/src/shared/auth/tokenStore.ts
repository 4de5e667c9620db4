// Where the session's tokens live. localStorage so a reload or a second tab keeps the session;
// the refresh itself is serialised across tabs (see client.ts) because the server rotates
// refresh tokens and treats a reused one as theft.

export interface TokenPair {
  accessToken: string;
  refreshToken: string | null;
  /** Epoch milliseconds when the access token expires (0 when unknown). */
  expiresAt: number;
}

export interface TokenStore {
  get(): TokenPair | null;
  set(pair: TokenPair): void;
  clear(): void;
  subscribe(listener: (pair: TokenPair | null) => void): () => void;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const KEY = 'powernode.session';

function parse(raw: string | null): TokenPair | null {
  if (!raw) return null;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    if (typeof o.accessToken !== 'string' || o.accessToken === '') return null;
    return {
      accessToken: o.accessToken,
      refreshToken: typeof o.refreshToken === 'string' ? o.refreshToken : null,
      expiresAt: typeof o.expiresAt === 'number' ? o.expiresAt : 0,
    };
  } catch {
    return null;
  }
}

export function createTokenStore(storage: KeyValueStorage | null): TokenStore {
  let memory: TokenPair | null = storage ? parse(storage.getItem(KEY)) : null;
  const listeners = new Set<(pair: TokenPair | null) => void>();
  const notify = (): void => listeners.forEach((l) => l(memory));

  if (typeof window !== 'undefined' && storage === window.localStorage) {
    // Another tab refreshed or signed out.
    window.addEventListener('storage', (e) => {
      if (e.key !== KEY) return;
      memory = parse(e.newValue);
      notify();
    });
  }

  return {
    get() {
      if (!storage) return memory;
      try {
        return parse(storage.getItem(KEY));
      } catch {
        return memory;
      }
    },
    set(pair) {
      memory = pair;
      storage?.setItem(KEY, JSON.stringify(pair));
      notify();
    },
    clear() {
      memory = null;
      storage?.removeItem(KEY);
      notify();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export function browserStorage(): KeyValueStorage | null {
  try {
    return typeof window !== 'undefined' ? window.localStorage : null;
  } catch {
    return null;
  }
}
