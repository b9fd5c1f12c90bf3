import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/client.ts';
import type { AuditEvent, Role, ServiceHealth, User } from '../api/types.ts';
import { Empty, formatDate, Loading, ProblemView } from '../components/states.tsx';
import { Tabs } from '../components/tabs.tsx';

const ROLES: Role[] = ['admin', 'editor', 'viewer'];

function Users() {
  const client = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<Role>('editor');
  const users = useQuery({
    queryKey: ['users'],
    queryFn: () => api<{ users: User[]; total: number }>('/api/v1/admin/users', { query: { limit: 500 } }),
  });
  const refresh = () => client.invalidateQueries({ queryKey: ['users'] });
  const create = useMutation({
    mutationFn: () => api<User>('/api/v1/admin/users', { method: 'POST', body: { email, password, role } }),
    onSuccess: () => {
      setEmail('');
      setPassword('');
      void refresh();
    },
  });
  const update = useMutation({
    mutationFn: ({ id, change }: { id: string; change: { role?: Role; disabled?: boolean } }) =>
      api<User>(`/api/v1/admin/users/${id}`, { method: 'PATCH', body: change }),
    onSuccess: refresh,
  });
  return (
    <div className="stack">
      <form
        className="card toolbar"
        aria-label="Create a user"
        onSubmit={(event) => {
          event.preventDefault();
          create.mutate();
        }}
      >
        <label>
          Email
          <input type="email" required value={email} onChange={(event) => setEmail(event.target.value)} />
        </label>
        <label>
          Initial password
          <input
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </label>
        <label>
          Role
          <select value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {ROLES.map((item) => (
              <option key={item}>{item}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={create.isPending}>
          Create user
        </button>
      </form>
      {create.isError && <ProblemView error={create.error} />}
      {update.isError && <ProblemView error={update.error} />}
      {users.isPending && <Loading />}
      {users.isError && <ProblemView error={users.error} />}
      {users.data && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Users</caption>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {users.data.users.map((user) => (
                <tr key={user.id}>
                  <td>{user.email}</td>
                  <td>
                    <select
                      aria-label={`Role of ${user.email}`}
                      value={user.role}
                      onChange={(event) =>
                        update.mutate({ id: user.id, change: { role: event.target.value as Role } })
                      }
                    >
                      {ROLES.map((item) => (
                        <option key={item}>{item}</option>
                      ))}
                    </select>
                  </td>
                  <td>
                    {user.disabled
                      ? 'disabled'
                      : user.locked_until
                        ? `locked until ${formatDate(user.locked_until)}`
                        : 'active'}{' '}
                    <button
                      type="button"
                      className="secondary small"
                      onClick={() => update.mutate({ id: user.id, change: { disabled: !user.disabled } })}
                    >
                      {user.disabled ? 'Enable' : 'Disable'}
                    </button>
                  </td>
                  <td>{formatDate(user.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Services() {
  const services = useQuery({
    queryKey: ['services'],
    queryFn: () => api<{ services: ServiceHealth[] }>('/api/v1/services'),
    refetchInterval: 5000,
  });
  if (services.isPending) return <Loading />;
  if (services.isError) return <ProblemView error={services.error} />;
  return (
    <div className="service-grid">
      {services.data.services.map((service) => (
        <article key={service.name} className="card" aria-labelledby={`svc-${service.name}`}>
          <h3 id={`svc-${service.name}`}>
            {service.name}{' '}
            <span className={`badge ${service.healthy ? 'state-succeeded' : 'state-failed'}`}>
              {service.healthy ? 'healthy' : 'unhealthy'}
            </span>
          </h3>
          <p className="muted">{service.prefix}</p>
          <ul>
            {service.instances.map((instance) => (
              <li key={instance.url}>
                {instance.url} — {instance.state} ({instance.source})
                {instance.last_error && <span className="field-error"> {instance.last_error}</span>}
              </li>
            ))}
          </ul>
        </article>
      ))}
    </div>
  );
}

function Audit() {
  const [kind, setKind] = useState<'' | 'request' | 'security'>('');
  const [before, setBefore] = useState<number[]>([]);
  const audit = useQuery({
    queryKey: ['audit', kind, before.at(-1)],
    queryFn: () =>
      api<{ events: AuditEvent[]; next_before: number | null }>('/api/v1/admin/audit', {
        query: { kind: kind || undefined, before: before.at(-1), limit: 50 },
      }),
  });
  return (
    <div className="stack">
      <div className="toolbar">
        <label>
          Kind
          <select
            value={kind}
            onChange={(event) => {
              setKind(event.target.value as typeof kind);
              setBefore([]);
            }}
          >
            <option value="">All</option>
            <option value="request">API calls</option>
            <option value="security">Security events</option>
          </select>
        </label>
      </div>
      {audit.isPending && <Loading />}
      {audit.isError && <ProblemView error={audit.error} />}
      {audit.data && audit.data.events.length === 0 && <Empty>No events.</Empty>}
      {audit.data && audit.data.events.length > 0 && (
        <div className="table-wrap">
          <table className="table compact">
            <caption className="sr-only">Audit log, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Action</th>
                <th scope="col">Request</th>
                <th scope="col">Status</th>
                <th scope="col">User</th>
                <th scope="col">IP</th>
              </tr>
            </thead>
            <tbody>
              {audit.data.events.map((event) => (
                <tr key={event.id}>
                  <td>{formatDate(event.at)}</td>
                  <td>{event.action}</td>
                  <td>{event.method ? `${event.method} ${event.path ?? ''}` : '—'}</td>
                  <td>{event.status ?? '—'}</td>
                  <td>{event.user_id?.slice(0, 8) ?? '—'}</td>
                  <td>{event.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="toolbar">
        <button
          type="button"
          className="secondary"
          disabled={before.length === 0}
          onClick={() => setBefore(before.slice(0, -1))}
        >
          Newer
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!audit.data?.next_before}
          onClick={() => audit.data?.next_before && setBefore([...before, audit.data.next_before])}
        >
          Older
        </button>
      </div>
    </div>
  );
}

export default function AdminPage() {
  const [tab, setTab] = useState<'users' | 'services' | 'audit'>('users');
  return (
    <section>
      <h1 tabIndex={-1}>Administration</h1>
      <Tabs
        label="Administration"
        current={tab}
        onChange={setTab}
        tabs={[
          ['users', 'Users and roles'],
          ['services', 'Service health'],
          ['audit', 'Audit log'],
        ]}
      />
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tabpanel">
        {tab === 'users' && <Users />}
        {tab === 'services' && <Services />}
        {tab === 'audit' && <Audit />}
      </div>
    </section>
  );
}
