import { useQueryClient } from '@tanstack/react-query';
import { useState, useSyncExternalStore, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { login } from '../api/client.ts';
import {
  currentSignOutReason,
  onSignOutReason,
  setSignOutReason,
  type SignOutReason,
} from '../api/tokens.ts';
import { ProblemView } from '../components/states.tsx';

const SIGNED_OUT: Record<SignOutReason, string> = {
  password_changed: 'Password changed, and every session signed out. Sign in with the new password.',
};

export function LoginPage() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const client = useQueryClient();
  const reason = useSyncExternalStore(onSignOutReason, currentSignOutReason);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await login(email, password);
      setSignOutReason(undefined);
      await client.invalidateQueries({ queryKey: ['me'] });
      const next = params.get('next');
      // Only paths inside this app: never an open redirect.
      void navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/datasets', {
        replace: true,
      });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="login">
      <form
        className="card login-card"
        onSubmit={(event) => void submit(event)}
        aria-labelledby="login-title"
      >
        <h1 id="login-title">Sign in to DataLab</h1>
        {reason && (
          <p className="notice" role="status">
            {SIGNED_OUT[reason]}
          </p>
        )}
        <label>
          Email
          <input
            type="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {error !== undefined && <ProblemView error={error} />}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
