import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api } from '../api/client.ts';
import { canEdit, useSession } from '../auth/session.tsx';
import { Empty, formatDate, Loading, ProblemView } from '../components/states.tsx';
import type { DashboardSummary } from '../dashboards/dashboard-shape.ts';

export default function DashboardsPage() {
  const { me } = useSession();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [title, setTitle] = useState('');
  const list = useQuery({
    queryKey: ['dashboards'],
    queryFn: () =>
      api<{ dashboards: DashboardSummary[]; total: number }>('/api/v1/viz/dashboards', {
        query: { limit: 200 },
      }),
  });
  const create = useMutation({
    mutationFn: () =>
      api<{ id: string }>('/api/v1/viz/dashboards', {
        method: 'POST',
        body: { title, layout: { columns: 12, row_height: 80, items: [] } },
      }),
    onSuccess: (created) => {
      void client.invalidateQueries({ queryKey: ['dashboards'] });
      void navigate(`/dashboards/${created.id}`);
    },
  });
  return (
    <section>
      <h1 tabIndex={-1}>Dashboards</h1>
      {canEdit(me) && (
        <form
          className="toolbar"
          aria-label="New dashboard"
          onSubmit={(event) => {
            event.preventDefault();
            create.mutate();
          }}
        >
          <label>
            Title
            <input
              required
              maxLength={200}
              value={title}
              onChange={(event) => setTitle(event.target.value)}
            />
          </label>
          <button type="submit" disabled={create.isPending}>
            New dashboard
          </button>
        </form>
      )}
      {create.isError && <ProblemView error={create.error} />}
      {list.isPending && <Loading />}
      {list.isError && <ProblemView error={list.error} />}
      {list.data && list.data.dashboards.length === 0 && <Empty>No dashboards yet.</Empty>}
      {list.data && list.data.dashboards.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Dashboards</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Visibility</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.dashboards.map((dashboard) => (
                <tr key={dashboard.id}>
                  <td>
                    <Link to={`/dashboards/${dashboard.id}`}>{dashboard.title}</Link>
                  </td>
                  <td>{dashboard.visibility}</td>
                  <td>{formatDate(dashboard.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
