import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, logout } from '../api/client.ts';
import { setSignOutReason } from '../api/tokens.ts';
import type { ApiKey, Role } from '../api/types.ts';
import { useSession } from '../auth/session.tsx';
import { Empty, formatDate, Loading, ProblemView } from '../components/states.tsx';

function ChangePassword() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const change = useMutation({
    mutationFn: () =>
      api<void>('/api/v1/auth/password', {
        method: 'POST',
        body: { current_password: current, new_password: next },
      }),
    // The server ends every session of this user, this one included: sign out here as the
    // Log out button does, rather than wait for the next call to fail.
    onSuccess: () => {
      setSignOutReason('password_changed');
      void logout();
    },
  });
  const mismatch = confirm !== '' && confirm !== next;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!mismatch) change.mutate();
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="password-title">
      <h2 id="password-title" className="h3">
        Change password
      </h2>
      <label>
        Current password
        <input
          type="password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
        />
      </label>
      <label>
        New password
        <input
          type="password"
          autoComplete="new-password"
          required
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
      </label>
      <label>
        New password again
        <input
          type="password"
          autoComplete="new-password"
          required
          value={confirm}
          aria-invalid={mismatch}
          aria-describedby={mismatch ? 'confirm-error' : undefined}
          onChange={(e) => setConfirm(e.target.value)}
        />
      </label>
      {mismatch && (
        <p id="confirm-error" className="field-error">
          The two new passwords differ.
        </p>
      )}
      <button type="submit" disabled={change.isPending || mismatch}>
        Change password
      </button>
      {change.isError && <ProblemView error={change.error} />}
    </form>
  );
}

function ApiKeys() {
  const { me } = useSession();
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role | ''>('');
  const keys = useQuery({
    queryKey: ['api-keys'],
    queryFn: () => api<{ api_keys: ApiKey[] }>('/api/v1/auth/api-keys'),
  });
  const create = useMutation({
    mutationFn: () =>
      api<ApiKey & { key: string }>('/api/v1/auth/api-keys', {
        method: 'POST',
        body: { name, ...(role ? { role } : {}) },
      }),
    onSuccess: () => {
      setName('');
      void client.invalidateQueries({ queryKey: ['api-keys'] });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api<ApiKey>(`/api/v1/auth/api-keys/${id}`, { method: 'DELETE' }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['api-keys'] }),
  });
  const roles: Role[] =
    me?.role === 'admin'
      ? ['admin', 'editor', 'viewer']
      : me?.role === 'editor'
        ? ['editor', 'viewer']
        : ['viewer'];
  return (
    <section className="card stack" aria-labelledby="keys-title">
      <h2 id="keys-title" className="h3">
        API keys
      </h2>
      <form
        className="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <label>
          Name
          <input required maxLength={100} value={name} onChange={(event) => setName(event.target.value)} />
        </label>
        <label>
          Role
          <select value={role} onChange={(event) => setRole(event.target.value as Role | '')}>
            <option value="">Same as mine</option>
            {roles.map((item) => (
              <option key={item}>{item}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>
          Create key
        </button>
      </form>
      {create.isError && <ProblemView error={create.error} />}
      {create.data && (
        <div className="notice" role="status">
          <p>
            <strong>Copy this key now: it will not be shown again.</strong>
          </p>
          <code className="secret" aria-label="New API key">
            {create.data.key}
          </code>
        </div>
      )}
      {keys.isPending && <Loading />}
      {keys.isError && <ProblemView error={keys.error} />}
      {keys.data && keys.data.api_keys.length === 0 && <Empty>No API keys.</Empty>}
      {keys.data && keys.data.api_keys.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">My API keys</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Role</th>
                <th scope="col">Last used</th>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.api_keys.map((key) => (
                <tr key={key.id}>
                  <td>{key.name}</td>
                  <td>
                    <code>{key.prefix}…</code>
                  </td>
                  <td>{key.role}</td>
                  <td>{formatDate(key.last_used_at)}</td>
                  <td>{formatDate(key.created_at)}</td>
                  <td>
                    {key.revoked_at ? (
                      `revoked ${formatDate(key.revoked_at)}`
                    ) : (
                      <button
                        type="button"
                        className="danger small"
                        aria-label={`Revoke key ${key.name}`}
                        onClick={() => revoke.mutate(key.id)}
                      >
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {revoke.isError && <ProblemView error={revoke.error} />}
    </section>
  );
}

export default function AccountPage() {
  const { me } = useSession();
  return (
    <section className="stack">
      <h1 tabIndex={-1}>Account</h1>
      <p>
        Signed in as <strong>{me?.email}</strong> with the role <strong>{me?.role}</strong>.
      </p>
      <div className="two-columns">
        <ChangePassword />
        <ApiKeys />
      </div>
    </section>
  );
}
