import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, download } from '../api/client.ts';
import type { Dataset, DatasetVersion, Visibility } from '../api/types.ts';
import { useSession } from '../auth/session.tsx';
import { ProfileView } from '../components/profile-view.tsx';
import { RowsView } from '../components/rows-view.tsx';
import { formatBytes, formatDate, Loading, ProblemView } from '../components/states.tsx';
import { Tabs } from '../components/tabs.tsx';
import { UploadForm } from '../components/upload-form.tsx';

type Tab = 'rows' | 'profile' | 'versions' | 'manage';

function Versions({ dataset }: { dataset: Dataset }) {
  const versions = useQuery({
    queryKey: ['versions', dataset.id, dataset.version],
    queryFn: () => api<{ versions: DatasetVersion[] }>(`/api/v1/data/datasets/${dataset.id}/versions`),
  });
  if (versions.isPending) return <Loading />;
  if (versions.isError) return <ProblemView error={versions.error} />;
  return (
    <table className="table">
      <caption className="sr-only">Versions of {dataset.name}</caption>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Change</th>
          <th scope="col">Rows written</th>
          <th scope="col">Rows rejected</th>
          <th scope="col">When</th>
        </tr>
      </thead>
      <tbody>
        {versions.data.versions.map((version) => (
          <tr key={version.version}>
            <td>{version.version}</td>
            <td>{version.mode}</td>
            <td>{version.rows_written.toLocaleString()}</td>
            <td>{version.rows_rejected.toLocaleString()}</td>
            <td>{formatDate(version.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Manage({ dataset, canManage }: { dataset: Dataset; canManage: boolean }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const refresh = () => client.invalidateQueries({ queryKey: ['dataset', dataset.id] });
  const share = useMutation({
    mutationFn: (visibility: Visibility) =>
      api<Dataset>(`/api/v1/data/datasets/${dataset.id}`, { method: 'PATCH', body: { visibility } }),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => api<void>(`/api/v1/data/datasets/${dataset.id}`, { method: 'DELETE' }),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ['datasets'] });
      void navigate('/datasets');
    },
  });
  if (!canManage) return <p>Only the owner of this dataset (or an admin) can change it.</p>;
  return (
    <div className="stack">
      <section className="card" aria-labelledby="share-title">
        <h2 id="share-title" className="h3">
          Sharing
        </h2>
        <p>
          This dataset is <strong>{dataset.visibility}</strong>:{' '}
          {dataset.visibility === 'shared'
            ? 'everyone signed in can read it.'
            : 'only you and admins can read it.'}
        </p>
        <button
          type="button"
          className="secondary"
          disabled={share.isPending}
          onClick={() => share.mutate(dataset.visibility === 'shared' ? 'private' : 'shared')}
        >
          {dataset.visibility === 'shared' ? 'Make private' : 'Share with everyone'}
        </button>
        {share.isError && <ProblemView error={share.error} />}
      </section>
      <section aria-labelledby="version-title">
        <h2 id="version-title" className="h3">
          Append or replace
        </h2>
        <UploadForm
          path={`/api/v1/data/datasets/${dataset.id}/versions`}
          mode="version"
          onDone={() => void refresh()}
        />
      </section>
      <section className="card danger-zone" aria-labelledby="delete-title">
        <h2 id="delete-title" className="h3">
          Delete
        </h2>
        <p>Deleting removes the rows and every version. It cannot be undone.</p>
        <button
          type="button"
          className="danger"
          disabled={remove.isPending}
          onClick={() => {
            if (window.confirm(`Delete the dataset “${dataset.name}” and all its rows?`)) remove.mutate();
          }}
        >
          Delete dataset
        </button>
        {remove.isError && <ProblemView error={remove.error} />}
      </section>
    </div>
  );
}

export default function DatasetPage() {
  const { id = '' } = useParams();
  const { me } = useSession();
  const [tab, setTab] = useState<Tab>('rows');
  const [exportError, setExportError] = useState<unknown>();
  const dataset = useQuery({
    queryKey: ['dataset', id],
    queryFn: () => api<Dataset>(`/api/v1/data/datasets/${encodeURIComponent(id)}`),
  });
  if (dataset.isPending) return <Loading />;
  if (dataset.isError)
    return (
      <section>
        <h1 tabIndex={-1}>Dataset</h1>
        <ProblemView error={dataset.error} />
        <Link to="/datasets">Back to datasets</Link>
      </section>
    );
  const data = dataset.data;
  const canManage = me?.role === 'admin' || (me?.role === 'editor' && data.owner_id === me.id);
  const exportAs = (format: 'csv' | 'parquet' | 'json') => {
    setExportError(undefined);
    download(`/api/v1/data/datasets/${data.id}/export?format=${format}`, `${data.name}.${format}`).catch(
      setExportError,
    );
  };
  return (
    <section>
      <h1 tabIndex={-1}>{data.name}</h1>
      <p className="muted">
        {data.row_count.toLocaleString()} rows · {data.columns.length} columns · {formatBytes(data.bytes)} ·
        version {data.version} · {data.visibility} · from {data.source_format}
      </p>
      {data.description && <p>{data.description}</p>}
      <div className="toolbar">
        <div className="group" role="group" aria-label="Export">
          <span>Export:</span>
          <button type="button" className="secondary" onClick={() => exportAs('csv')}>
            CSV
          </button>
          <button type="button" className="secondary" onClick={() => exportAs('parquet')}>
            Parquet
          </button>
          <button type="button" className="secondary" onClick={() => exportAs('json')}>
            JSON
          </button>
        </div>
        <div className="group">
          <Link className="button secondary" to={`/query?dataset=${encodeURIComponent(data.name)}`}>
            Query it
          </Link>
          <Link className="button secondary" to={`/charts/new?dataset=${encodeURIComponent(data.name)}`}>
            Chart it
          </Link>
        </div>
      </div>
      {exportError !== undefined && <ProblemView error={exportError} />}
      <Tabs
        label="Dataset views"
        current={tab}
        onChange={setTab}
        tabs={[
          ['rows', 'Rows'],
          ['profile', 'Profile'],
          ['versions', 'Versions'],
          ['manage', 'Manage'],
        ]}
      />
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tabpanel">
        {tab === 'rows' && <RowsView dataset={data} />}
        {tab === 'profile' && <ProfileView dataset={data} />}
        {tab === 'versions' && <Versions dataset={data} />}
        {tab === 'manage' && <Manage dataset={data} canManage={canManage} />}
      </div>
    </section>
  );
}
