import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { api } from '../api/client.ts';
import type { Dataset } from '../api/types.ts';
import { canEdit, useSession } from '../auth/session.tsx';
import { Empty, formatBytes, formatDate, Loading, ProblemView } from '../components/states.tsx';
import { UploadForm } from '../components/upload-form.tsx';

export default function DatasetsPage() {
  const { me } = useSession();
  const [search, setSearch] = useState('');
  const [mine, setMine] = useState(false);
  const navigate = useNavigate();
  const client = useQueryClient();
  const list = useQuery({
    queryKey: ['datasets', search, mine],
    queryFn: () =>
      api<{ datasets: Dataset[]; total: number }>('/api/v1/data/datasets', {
        query: { search: search || undefined, owner: mine ? 'me' : undefined, limit: 200 },
      }),
  });

  return (
    <section>
      <h1 tabIndex={-1}>Datasets</h1>
      {canEdit(me) && (
        <UploadForm
          path="/api/v1/data/datasets"
          onDone={(result) => {
            void client.invalidateQueries({ queryKey: ['datasets'] });
            void navigate(`/datasets/${result.dataset.id}`);
          }}
        />
      )}
      <div className="toolbar" role="search">
        <label>
          Search
          <input
            type="search"
            value={search}
            onChange={(event) => setSearch(event.target.value)}
            placeholder="name or description"
          />
        </label>
        <label className="inline">
          <input type="checkbox" checked={mine} onChange={(event) => setMine(event.target.checked)} /> Only
          mine
        </label>
      </div>
      {list.isPending && <Loading />}
      {list.isError && <ProblemView error={list.error} />}
      {list.data && list.data.datasets.length === 0 && (
        <Empty>
          {search
            ? `No dataset matches “${search}”.`
            : canEdit(me)
              ? 'No datasets yet. Upload a file to start.'
              : 'No datasets shared with you yet.'}
        </Empty>
      )}
      {list.data && list.data.datasets.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Datasets you can read</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Rows</th>
                <th scope="col">Columns</th>
                <th scope="col">Size</th>
                <th scope="col">Version</th>
                <th scope="col">Visibility</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.datasets.map((dataset) => (
                <tr key={dataset.id}>
                  <td>
                    <Link to={`/datasets/${dataset.id}`}>{dataset.name}</Link>
                    {dataset.owner_id === me?.id && <span className="badge subtle">mine</span>}
                  </td>
                  <td>{dataset.row_count.toLocaleString()}</td>
                  <td>{dataset.columns.length}</td>
                  <td>{formatBytes(dataset.bytes)}</td>
                  <td>{dataset.version}</td>
                  <td>{dataset.visibility}</td>
                  <td>{formatDate(dataset.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">
            {list.data.total} {list.data.total === 1 ? 'dataset' : 'datasets'}
          </p>
        </div>
      )}
    </section>
  );
}
