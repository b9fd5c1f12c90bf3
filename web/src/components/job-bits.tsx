import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { readEvents } from '../api/events.ts';
import type { Job, JobState } from '../api/types.ts';

export const FINISHED: ReadonlySet<JobState> = new Set(['succeeded', 'failed', 'cancelled', 'dead']);

export function StateBadge({ state }: { state: JobState }) {
  return <span className={`badge state-${state}`}>{state}</span>;
}

/** Follows a job's SSE stream and writes each update into the query cache, so every view of it moves. */
export function useJobEvents(job: Job | undefined): void {
  const client = useQueryClient();
  const id = job?.id;
  const live = job !== undefined && !FINISHED.has(job.state);
  useEffect(() => {
    if (!id || !live) return;
    const controller = new AbortController();
    readEvents(
      `/api/v1/compute/jobs/${id}/events`,
      (event) => {
        try {
          const update = JSON.parse(event.data) as Partial<Job>;
          client.setQueryData<Job>(['job', id], (old) => (old ? { ...old, ...update } : old));
          client.setQueriesData<{ jobs: Job[]; total: number }>({ queryKey: ['jobs'] }, (old) =>
            old
              ? { ...old, jobs: old.jobs.map((item) => (item.id === id ? { ...item, ...update } : item)) }
              : old,
          );
        } catch {
          // A comment or keep-alive line carries no JSON.
        }
      },
      controller.signal,
    )
      .then(() => client.invalidateQueries({ queryKey: ['job', id] }))
      .catch(() => undefined);
    return () => controller.abort();
  }, [client, id, live]);
}
