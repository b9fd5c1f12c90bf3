import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api } from '../api/client.ts';
import type { Job, JobLog } from '../api/types.ts';
import { FINISHED, StateBadge, useJobEvents } from '../components/job-bits.tsx';
import { formatDate, Loading, ProblemView, ProgressBar } from '../components/states.tsx';

function resultLink(job: Job) {
  const result = job.result as Record<string, unknown> | null;
  if (!result || typeof result !== 'object') return null;
  if (typeof result.dataset_id === 'string')
    return <Link to={`/datasets/${result.dataset_id}`}>Open the dataset {String(result.name ?? '')}</Link>;
  if (typeof result.model_id === 'string')
    return <Link to={`/models/${result.model_id}`}>Open the model</Link>;
  return null;
}

export default function JobPage() {
  const { id = '' } = useParams();
  const client = useQueryClient();
  const job = useQuery({ queryKey: ['job', id], queryFn: () => api<Job>(`/api/v1/compute/jobs/${id}`) });
  useJobEvents(job.data);
  const live = job.data !== undefined && !FINISHED.has(job.data.state);
  const logs = useQuery({
    queryKey: ['job-logs', id, job.data?.state],
    queryFn: () => api<{ logs: JobLog[] }>(`/api/v1/compute/jobs/${id}/logs`, { query: { limit: 1000 } }),
    refetchInterval: live ? 2000 : false,
  });
  const act = useMutation({
    mutationFn: (action: 'cancel' | 'retry') =>
      api<Job>(`/api/v1/compute/jobs/${id}/${action}`, { method: 'POST' }),
    onSuccess: (updated) => {
      client.setQueryData(['job', id], updated);
      void client.invalidateQueries({ queryKey: ['jobs'] });
    },
  });
  if (job.isPending) return <Loading />;
  if (job.isError)
    return (
      <section>
        <h1 tabIndex={-1}>Job</h1>
        <ProblemView error={job.error} />
      </section>
    );
  const data = job.data;
  return (
    <section>
      <h1 tabIndex={-1}>
        Job {data.id.slice(0, 8)} <StateBadge state={data.state} />
      </h1>
      <dl className="stats wide">
        <dt>Type</dt>
        <dd>{data.type}</dd>
        <dt>Queue</dt>
        <dd>{data.queue}</dd>
        <dt>Attempts</dt>
        <dd>
          {data.attempts} of {data.max_attempts}
        </dd>
        <dt>Submitted</dt>
        <dd>{formatDate(data.created_at)}</dd>
        <dt>Started</dt>
        <dd>{formatDate(data.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{formatDate(data.finished_at)}</dd>
      </dl>
      <div aria-live="polite">
        <ProgressBar value={data.progress / 100} label="Job progress" />
        {data.progress_message && <p className="muted">{data.progress_message}</p>}
      </div>
      {data.error && (
        <div className="problem" role="alert">
          <p>
            <strong>{data.error.kind}</strong> on attempt {data.error.attempt}: {data.error.message}
          </p>
        </div>
      )}
      {data.state === 'succeeded' && <p>{resultLink(data)}</p>}
      <div className="toolbar">
        {live && (
          <button
            type="button"
            className="danger"
            onClick={() => act.mutate('cancel')}
            disabled={act.isPending}
          >
            Cancel
          </button>
        )}
        {(data.state === 'failed' || data.state === 'dead' || data.state === 'cancelled') && (
          <button type="button" onClick={() => act.mutate('retry')} disabled={act.isPending}>
            Retry
          </button>
        )}
      </div>
      {act.isError && <ProblemView error={act.error} />}
      <h2 className="h3">Parameters</h2>
      <pre className="code">{JSON.stringify(data.params, null, 2)}</pre>
      {data.result !== null && data.result !== undefined && (
        <>
          <h2 className="h3">Result</h2>
          <pre className="code">{JSON.stringify(data.result, null, 2)}</pre>
        </>
      )}
      <h2 className="h3">Logs</h2>
      {logs.isError && <ProblemView error={logs.error} />}
      {logs.data && logs.data.logs.length === 0 && <p className="muted">No log lines yet.</p>}
      {logs.data && logs.data.logs.length > 0 && (
        <pre className="code logs" aria-label="Job log" tabIndex={0}>
          {logs.data.logs
            .map((line) => `${line.at}  ${line.level.toUpperCase().padEnd(5)}  ${line.message}`)
            .join('\n')}
        </pre>
      )}
    </section>
  );
}
