import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useParams } from 'react-router';
import { api } from '../api/client.ts';
import type { Model, ModelVersion } from '../api/types.ts';
import { useSession } from '../auth/session.tsx';
import { PredictForm } from '../components/predict-form.tsx';
import { formatBytes, formatDate, Loading, ProblemView } from '../components/states.tsx';

function importanceOf(version: ModelVersion): [string, number][] {
  const raw = version.metrics.feature_importance ?? version.metrics.importance;
  if (!raw || typeof raw !== 'object') return [];
  const entries = Array.isArray(raw)
    ? (raw as { feature?: string; name?: string; importance?: number; value?: number }[]).map(
        (item) =>
          [item.feature ?? item.name ?? '?', Number(item.importance ?? item.value ?? 0)] as [string, number],
      )
    : Object.entries(raw as Record<string, number>).map(
        ([key, value]) => [key, Number(value)] as [string, number],
      );
  return entries.sort((a, b) => b[1] - a[1]);
}

function scalarMetrics(version: ModelVersion): [string, string][] {
  const out: [string, string][] = [];
  const walk = (prefix: string, value: unknown) => {
    if (typeof value === 'number') out.push([prefix, Number(value.toPrecision(4)).toString()]);
    else if (typeof value === 'string' || typeof value === 'boolean') out.push([prefix, String(value)]);
    else if (value && typeof value === 'object' && !Array.isArray(value) && !/importance/.test(prefix))
      for (const [key, child] of Object.entries(value)) walk(prefix ? `${prefix}.${key}` : key, child);
  };
  walk('', version.metrics);
  return out;
}

function Importance({ version }: { version: ModelVersion }) {
  const entries = importanceOf(version);
  if (entries.length === 0) return <p className="muted">This model reports no feature importance.</p>;
  const max = Math.max(...entries.map(([, value]) => Math.abs(value)), 1e-9);
  return (
    <table className="table compact" aria-label="Feature importance">
      <tbody>
        {entries.map(([name, value]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td style={{ width: '60%' }}>
              <div className="progress-track" aria-hidden="true">
                <div className="progress-fill" style={{ width: `${(Math.abs(value) / max) * 100}%` }} />
              </div>
            </td>
            <td>{Number(value.toPrecision(3))}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function ModelPage() {
  const { id = '' } = useParams();
  const { me } = useSession();
  const client = useQueryClient();
  const [chosen, setChosen] = useState<number | undefined>();
  const model = useQuery({ queryKey: ['model', id], queryFn: () => api<Model>(`/api/v1/ai/models/${id}`) });
  const stage = useMutation({
    mutationFn: ({ version, value }: { version: number; value: string }) =>
      api<ModelVersion>(`/api/v1/ai/models/${id}/versions/${version}`, {
        method: 'PATCH',
        body: { stage: value },
      }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['model', id] }),
  });
  if (model.isPending) return <Loading />;
  if (model.isError)
    return (
      <section>
        <h1 tabIndex={-1}>Model</h1>
        <ProblemView error={model.error} />
      </section>
    );
  const data = model.data;
  const versionNumber = chosen ?? data.production_version ?? data.latest_version ?? undefined;
  const version = data.versions.find((item) => item.version === versionNumber);
  const canManage = me?.role === 'admin' || (me?.role === 'editor' && data.owner_id === me.id);
  return (
    <section className="stack">
      <h1 tabIndex={-1}>{data.name}</h1>
      {data.description && <p>{data.description}</p>}
      <label className="inline">
        Version&nbsp;
        <select value={versionNumber ?? ''} onChange={(event) => setChosen(Number(event.target.value))}>
          {data.versions.map((item) => (
            <option key={item.version} value={item.version}>
              v{item.version} ({item.stage})
            </option>
          ))}
        </select>
      </label>
      {version && (
        <div className="two-columns">
          <div className="card">
            <h2 className="h3">Version {version.version}</h2>
            <dl className="stats">
              <dt>Algorithm</dt>
              <dd>{version.algorithm}</dd>
              <dt>Task</dt>
              <dd>{version.task}</dd>
              <dt>Stage</dt>
              <dd>
                {canManage ? (
                  <select
                    aria-label="Stage"
                    value={version.stage}
                    onChange={(event) =>
                      stage.mutate({ version: version.version, value: event.target.value })
                    }
                  >
                    <option>staging</option>
                    <option>production</option>
                    <option>archived</option>
                  </select>
                ) : (
                  version.stage
                )}
              </dd>
              <dt>Artifact</dt>
              <dd>{formatBytes(version.artifact_bytes)}</dd>
              <dt>Created</dt>
              <dd>{formatDate(version.created_at)}</dd>
              {typeof version.lineage.dataset_name === 'string' && (
                <>
                  <dt>Trained on</dt>
                  <dd>
                    {version.lineage.dataset_name} v{String(version.lineage.dataset_version ?? '?')}
                  </dd>
                </>
              )}
            </dl>
            {stage.isError && <ProblemView error={stage.error} />}
          </div>
          <div className="card">
            <h2 className="h3">Metrics</h2>
            <table className="table compact" aria-label="Metrics">
              <tbody>
                {scalarMetrics(version).map(([key, value]) => (
                  <tr key={key}>
                    <th scope="row">{key}</th>
                    <td>{value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2 className="h3">Feature importance</h2>
            <Importance version={version} />
          </div>
        </div>
      )}
      <h2>Predict</h2>
      <PredictForm key={versionNumber} model={data} version={versionNumber} />
    </section>
  );
}
