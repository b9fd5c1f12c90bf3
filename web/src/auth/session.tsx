import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, type ReactNode } from 'react';
import { accessToken, api } from '../api/client.ts';
import { onSessionChange, storedRefreshToken } from '../api/tokens.ts';
import type { Me } from '../api/types.ts';

interface Session {
  me: Me | undefined;
  loading: boolean;
}

const SessionContext = createContext<Session>({ me: undefined, loading: true });

async function whoAmI(): Promise<Me | null> {
  // No refresh token: nobody to sign in silently.
  if (!storedRefreshToken()) return null;
  if (!(await accessToken())) return null;
  return api<Me>('/api/v1/auth/me');
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const me = useQuery({ queryKey: ['me'], queryFn: whoAmI, staleTime: Infinity, retry: false });
  useEffect(
    () =>
      onSessionChange((signedIn) => {
        if (signedIn) {
          void client.invalidateQueries({ queryKey: ['me'] });
          return;
        }
        // Nobody first, so the app leaves the signed-in pages at once (clearing the cache alone
        // leaves this observer holding the old user), then forget every other answer.
        client.setQueryData(['me'], null);
        client.removeQueries({ predicate: (query) => query.queryKey[0] !== 'me' });
      }),
    [client],
  );
  return (
    <SessionContext.Provider value={{ me: me.data ?? undefined, loading: me.isPending }}>
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): Session {
  return useContext(SessionContext);
}

export function canEdit(me: Me | undefined): boolean {
  return me?.role === 'admin' || me?.role === 'editor';
}
