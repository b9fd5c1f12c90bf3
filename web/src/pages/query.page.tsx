import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, download } from '../api/client.ts';
import type { Dataset, Job, QueryResult } from '../api/types.ts';
import { canEdit, useSession } from '../auth/session.tsx';
import { DataGrid } from '../components/data-grid.tsx';
import { SqlEditor } from '../components/sql-editor.tsx';
import { Empty, ProblemView } from '../components/states.tsx';

export default function QueryPage() {
  const { me } = useSession();
  const [params] = useSearchParams();
  const start = params.get('dataset');
  const [text, setText] = useState(start ? `SELECT *\nFROM ${start}\nLIMIT 100` : 'SELECT 1 AS one');
  const [saveName, setSaveName] = useState('');
  const [exportError, setExportError] = useState<unknown>();
  const datasets = useQuery({
    queryKey: ['datasets', '', false],
    queryFn: () =>
      api<{ datasets: Dataset[]; total: number }>('/api/v1/data/datasets', { query: { limit: 500 } }),
  });
  const schema = Object.fromEntries(
    (datasets.data?.datasets ?? []).map((dataset) => [
      dataset.name,
      dataset.columns.map((column) => column.name),
    ]),
  );
  const run = useMutation({
    mutationFn: (sql: string) => api<QueryResult>('/api/v1/data/query', { method: 'POST', body: { sql } }),
  });
  const save = useMutation({
    mutationFn: () =>
      api<Job>('/api/v1/compute/jobs', {
        method: 'POST',
        body: { type: 'sql', params: { sql: text, ...(saveName ? { name: saveName } : {}) } },
      }),
  });
  const exportAs = (format: 'csv' | 'parquet') => {
    setExportError(undefined);
    download('/api/v1/data/query', `query.${format}`, {
      method: 'POST',
      query: { format },
      body: { sql: text },
    }).catch(setExportError);
  };

  return (
    <section>
      <h1 tabIndex={-1}>Query</h1>
      <div className="query-layout">
        <aside className="card schema" aria-label="Datasets and columns">
          <h2 className="h3">Datasets</h2>
          {(datasets.data?.datasets ?? []).map((dataset) => (
            <details key={dataset.id}>
              <summary>{dataset.name}</summary>
              <ul>
                {dataset.columns.map((column) => (
                  <li key={column.name}>
                    {column.name} <span className="col-type">{column.type}</span>
                  </li>
                ))}
              </ul>
            </details>
          ))}
          {datasets.data?.datasets.length === 0 && <p className="muted">No datasets yet.</p>}
        </aside>
        <div className="stack">
          <SqlEditor
            value={text}
            onChange={setText}
            onRun={() => run.mutate(text)}
            schema={schema}
            label="SQL query"
          />
          <div className="toolbar">
            <button type="button" onClick={() => run.mutate(text)} disabled={run.isPending}>
              {run.isPending ? 'Running…' : 'Run (Ctrl+Enter)'}
            </button>
            <button type="button" className="secondary" onClick={() => exportAs('csv')}>
              Export CSV
            </button>
            <button type="button" className="secondary" onClick={() => exportAs('parquet')}>
              Export Parquet
            </button>
          </div>
          {canEdit(me) && (
            <form
              className="toolbar"
              aria-label="Save the result as a dataset"
              onSubmit={(event) => {
                event.preventDefault();
                save.mutate();
              }}
            >
              <label>
                New dataset name
                <input
                  value={saveName}
                  pattern="[a-z_][a-z0-9_]{0,62}"
                  title="lower-case letters, digits and underscores"
                  onChange={(event) => setSaveName(event.target.value)}
                  placeholder="optional"
                />
              </label>
              <button type="submit" className="secondary" disabled={save.isPending}>
                Save as dataset
              </button>
              {save.data && (
                <span role="status">
                  Job <Link to={`/jobs/${save.data.id}`}>{save.data.id.slice(0, 8)}</Link> {save.data.state}
                </span>
              )}
            </form>
          )}
          {save.isError && <ProblemView error={save.error} />}
          {exportError !== undefined && <ProblemView error={exportError} />}
          {run.isError && <ProblemView error={run.error} />}
          {run.data && run.data.rows.length === 0 && <Empty>The query returned no rows.</Empty>}
          {run.data && run.data.rows.length > 0 && (
            <>
              <p className="muted" role="status">
                {run.data.row_count.toLocaleString()} rows
                {run.data.truncated ? ' (cut at the row limit)' : ''}
              </p>
              <DataGrid label="Query result" columns={run.data.columns} rows={run.data.rows} height={360} />
            </>
          )}
        </div>
      </div>
    </section>
  );
}
