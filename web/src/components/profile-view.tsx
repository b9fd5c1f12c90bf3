import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client.ts';
import type { Dataset, Profile } from '../api/types.ts';
import { MiniHistogram } from './histogram.tsx';
import { formatValue, Loading, ProblemView } from './states.tsx';

const number = (value: number | null | undefined) =>
  value === null || value === undefined ? '—' : Number(value.toPrecision(6)).toLocaleString();

export function ProfileView({ dataset }: { dataset: Dataset }) {
  const profile = useQuery({
    queryKey: ['profile', dataset.id, dataset.version],
    queryFn: () => api<Profile>(`/api/v1/data/datasets/${dataset.id}/profile`),
  });
  if (profile.isPending) return <Loading label="Computing the profile…" />;
  if (profile.isError) return <ProblemView error={profile.error} />;
  const { data } = profile;
  return (
    <div>
      <p className="muted">
        Version {data.version}, {data.row_count.toLocaleString()} rows
        {data.sampled
          ? `, statistics from a sample of ${data.sample_rows?.toLocaleString() ?? '?'} rows`
          : ''}
        .
      </p>
      <div className="profile-grid">
        {data.columns.map((column) => (
          <article key={column.name} className="card profile-card" aria-labelledby={`profile-${column.name}`}>
            <h3 id={`profile-${column.name}`}>
              {column.name} <span className="col-type">{column.type}</span>
            </h3>
            <MiniHistogram column={column} />
            <dl className="stats">
              <dt>Nulls</dt>
              <dd>{column.nulls.toLocaleString()}</dd>
              <dt>Distinct</dt>
              <dd>
                {column.distinct_approximate ? '≈' : ''}
                {column.distinct.toLocaleString()}
              </dd>
              <dt>Min</dt>
              <dd>{formatValue(column.min) || '—'}</dd>
              <dt>Max</dt>
              <dd>{formatValue(column.max) || '—'}</dd>
              {column.mean !== null && (
                <>
                  <dt>Mean</dt>
                  <dd>{number(column.mean)}</dd>
                  <dt>Std dev</dt>
                  <dd>{number(column.stddev)}</dd>
                </>
              )}
              {column.mean === null && column.top_values && column.top_values.length > 0 && (
                <>
                  <dt>Top</dt>
                  <dd>
                    {column.top_values
                      .slice(0, 3)
                      .map((top) => `${formatValue(top.value)} (${top.count.toLocaleString()})`)
                      .join(', ')}
                  </dd>
                </>
              )}
              {column.quantiles && (
                <>
                  <dt>Median</dt>
                  <dd>{number(column.quantiles.p50)}</dd>
                </>
              )}
            </dl>
          </article>
        ))}
      </div>
    </div>
  );
}
