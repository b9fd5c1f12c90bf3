import { useInfiniteQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api } from '../api/client.ts';
import type { Dataset, RowsPage } from '../api/types.ts';
import { DataGrid } from './data-grid.tsx';
import { Empty, Loading, ProblemView } from './states.tsx';

const OPS = [
  ['eq', '='],
  ['ne', '≠'],
  ['lt', '<'],
  ['le', '≤'],
  ['gt', '>'],
  ['ge', '≥'],
  ['contains', 'contains'],
  ['starts_with', 'starts with'],
  ['in', 'in (a|b|c)'],
  ['is_null', 'is null'],
  ['not_null', 'is not null'],
] as const;

/** The dataset's rows: sorted by a header click, filtered, fetched a page at a time as you scroll. */
export function RowsView({ dataset }: { dataset: Dataset }) {
  const [sort, setSort] = useState<string | undefined>();
  const [filters, setFilters] = useState<string[]>([]);
  const [column, setColumn] = useState(dataset.columns[0]?.name ?? '');
  const [op, setOp] = useState<string>('eq');
  const [value, setValue] = useState('');
  const rows = useInfiniteQuery({
    queryKey: ['rows', dataset.id, dataset.version, sort, filters],
    queryFn: ({ pageParam, signal }) =>
      api<RowsPage>(`/api/v1/data/datasets/${dataset.id}/rows`, {
        query: { limit: 200, sort, filter: filters, after: pageParam },
        signal,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next ?? undefined,
  });
  const all = rows.data?.pages.flatMap((page) => page.rows) ?? [];
  const columns = rows.data?.pages[0]?.columns ?? dataset.columns;
  const noValue = op === 'is_null' || op === 'not_null';

  const addFilter = (event: FormEvent) => {
    event.preventDefault();
    setFilters([...filters, noValue ? `${column}:${op}` : `${column}:${op}:${value}`]);
    setValue('');
  };

  return (
    <div>
      <form className="toolbar" onSubmit={addFilter} aria-label="Filter rows">
        <label>
          Column
          <select value={column} onChange={(event) => setColumn(event.target.value)}>
            {dataset.columns.map((item) => (
              <option key={item.name}>{item.name}</option>
            ))}
          </select>
        </label>
        <label>
          Condition
          <select value={op} onChange={(event) => setOp(event.target.value)}>
            {OPS.map(([key, label]) => (
              <option key={key} value={key}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {!noValue && (
          <label>
            Value
            <input value={value} onChange={(event) => setValue(event.target.value)} />
          </label>
        )}
        <button type="submit" className="secondary">
          Add filter
        </button>
      </form>
      {filters.length > 0 && (
        <ul className="chips" aria-label="Active filters">
          {filters.map((filter, index) => (
            <li key={`${filter}-${index}`}>
              <code>{filter}</code>
              <button
                type="button"
                className="link"
                aria-label={`Remove filter ${filter}`}
                onClick={() => setFilters(filters.filter((_, at) => at !== index))}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      {rows.isPending && <Loading label="Loading rows…" />}
      {rows.isError && <ProblemView error={rows.error} />}
      {rows.isSuccess && all.length === 0 && <Empty>No rows match.</Empty>}
      {rows.isSuccess && all.length > 0 && (
        <>
          <DataGrid
            label={`Rows of ${dataset.name}`}
            columns={columns}
            rows={all}
            sort={sort}
            onSort={setSort}
            onEnd={() => {
              if (rows.hasNextPage && !rows.isFetchingNextPage) void rows.fetchNextPage();
            }}
          />
          <p className="muted small" aria-live="polite">
            Showing {all.length.toLocaleString()}
            {filters.length === 0 ? ` of ${dataset.row_count.toLocaleString()}` : ''} rows
            {rows.isFetchingNextPage ? ' — loading more…' : rows.hasNextPage ? ' — scroll for more' : ''}
          </p>
          {rows.hasNextPage && (
            <button
              type="button"
              className="secondary"
              onClick={() => void rows.fetchNextPage()}
              disabled={rows.isFetchingNextPage}
            >
              Load more rows
            </button>
          )}
        </>
      )}
    </div>
  );
}
