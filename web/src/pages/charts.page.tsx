import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import type { ChartSummary } from '../api/types.ts';
import { canEdit, useSession } from '../auth/session.tsx';
import { Empty, formatDate, Loading, ProblemView } from '../components/states.tsx';

export default function ChartsPage() {
  const { me } = useSession();
  const charts = useQuery({
    queryKey: ['charts'],
    queryFn: () =>
      api<{ charts: ChartSummary[]; total: number }>('/api/v1/viz/charts', { query: { limit: 200 } }),
  });
  return (
    <section>
      <h1 tabIndex={-1}>Charts</h1>
      {canEdit(me) && (
        <p>
          <Link className="button" to="/charts/new">
            New chart
          </Link>
        </p>
      )}
      {charts.isPending && <Loading />}
      {charts.isError && <ProblemView error={charts.error} />}
      {charts.data && charts.data.charts.length === 0 && <Empty>No charts yet.</Empty>}
      {charts.data && charts.data.charts.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Charts</caption>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Visibility</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {charts.data.charts.map((chart) => (
                <tr key={chart.id}>
                  <td>
                    <Link to={`/charts/${chart.id}`}>{chart.title}</Link>
                  </td>
                  <td>{chart.visibility}</td>
                  <td>{formatDate(chart.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
