import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import type { Job, JobState } from '../api/types.ts';
import { FINISHED, StateBadge, useJobEvents } from '../components/job-bits.tsx';
import { Empty, formatDate, Loading, ProblemView, ProgressBar } from '../components/states.tsx';

const STATES: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'dead'];

/** A browser holds six connections per host: only a few rows follow their job live, the rest refresh. */
const LIVE_ROWS = 3;

function JobRow({ job, follow }: { job: Job; follow: boolean }) {
  useJobEvents(follow ? job : undefined);
  return (
    <tr>
      <td>
        <Link to={`/jobs/${job.id}`}>{job.id.slice(0, 8)}</Link>
      </td>
      <td>{job.type}</td>
      <td>
        <StateBadge state={job.state} />
      </td>
      <td className="progress-cell">
        {FINISHED.has(job.state) ? (
          (job.error?.message ?? job.progress_message ?? '')
        ) : (
          <ProgressBar value={job.progress / 100} label={`Progress of job ${job.id.slice(0, 8)}`} />
        )}
      </td>
      <td>
        {job.attempts}/{job.max_attempts}
      </td>
      <td>{formatDate(job.created_at)}</td>
    </tr>
  );
}

export default function JobsPage() {
  const [state, setState] = useState<JobState | ''>('');
  const [type, setType] = useState('');
  const jobs = useQuery({
    queryKey: ['jobs', state, type],
    queryFn: () =>
      api<{ jobs: Job[]; total: number }>('/api/v1/compute/jobs', {
        query: { state: state || undefined, type: type || undefined, limit: 100 },
      }),
    refetchInterval: 5000,
  });
  const followed = new Set(
    (jobs.data?.jobs ?? [])
      .filter((job) => !FINISHED.has(job.state))
      .slice(0, LIVE_ROWS)
      .map((job) => job.id),
  );
  return (
    <section>
      <h1 tabIndex={-1}>Jobs</h1>
      <div className="toolbar">
        <label>
          State
          <select value={state} onChange={(event) => setState(event.target.value as JobState | '')}>
            <option value="">Any</option>
            {STATES.map((item) => (
              <option key={item}>{item}</option>
            ))}
          </select>
        </label>
        <label>
          Type
          <input
            value={type}
            onChange={(event) => setType(event.target.value)}
            placeholder="e.g. sql, train"
          />
        </label>
      </div>
      {jobs.isPending && <Loading />}
      {jobs.isError && <ProblemView error={jobs.error} />}
      {jobs.data && jobs.data.jobs.length === 0 && <Empty>No jobs{state || type ? ' match' : ' yet'}.</Empty>}
      {jobs.data && jobs.data.jobs.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Jobs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Type</th>
                <th scope="col">State</th>
                <th scope="col">Progress</th>
                <th scope="col">Attempts</th>
                <th scope="col">Submitted</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.jobs.map((job) => (
                <JobRow key={job.id} job={job} follow={followed.has(job.id)} />
              ))}
            </tbody>
          </table>
          <p className="muted small">
            {jobs.data.total} {jobs.data.total === 1 ? 'job' : 'jobs'}
          </p>
        </div>
      )}
    </section>
  );
}
