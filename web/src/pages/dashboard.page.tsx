import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type DragEvent } from 'react';
import { useParams } from 'react-router';
import { api, download } from '../api/client.ts';
import type { ChartSummary, Visibility } from '../api/types.ts';
import { useSession } from '../auth/session.tsx';
import { Empty, Loading, ProblemView } from '../components/states.tsx';
import { ChartTile } from '../dashboards/chart-tile.tsx';
import {
  CHART_ROWS,
  fromApi,
  layoutOf,
  TEXT_ROWS,
  type ApiDashboard,
  type Dashboard,
  type Tile,
} from '../dashboards/dashboard-shape.ts';

const WIDTHS = [
  [4, 'Third'],
  [6, 'Half'],
  [8, 'Two thirds'],
  [12, 'Full'],
] as const;

export default function DashboardPage() {
  const { id = '' } = useParams();
  const { me } = useSession();
  const client = useQueryClient();
  const [tiles, setTiles] = useState<Tile[]>([]);
  const [editing, setEditing] = useState(false);
  const [dragged, setDragged] = useState<number | undefined>();
  const [over, setOver] = useState<number | undefined>();
  const [chartToAdd, setChartToAdd] = useState('');
  const [text, setText] = useState('');
  const [exportError, setExportError] = useState<unknown>();
  const dashboard = useQuery({
    queryKey: ['dashboard', id],
    queryFn: async () => fromApi(await api<ApiDashboard>(`/api/v1/viz/dashboards/${id}`)),
  });
  const charts = useQuery({
    queryKey: ['charts'],
    queryFn: () => api<{ charts: ChartSummary[] }>('/api/v1/viz/charts', { query: { limit: 200 } }),
    enabled: editing,
  });
  useEffect(() => {
    if (dashboard.data) setTiles(dashboard.data.tiles);
  }, [dashboard.data]);
  const save = useMutation({
    mutationFn: (change: { layout?: unknown; visibility?: Visibility }) =>
      api<unknown>(`/api/v1/viz/dashboards/${id}`, { method: 'PATCH', body: change }),
    onSuccess: () => {
      setEditing(false);
      void client.invalidateQueries({ queryKey: ['dashboard', id] });
    },
  });

  if (dashboard.isPending) return <Loading />;
  if (dashboard.isError)
    return (
      <section>
        <h1 tabIndex={-1}>Dashboard</h1>
        <ProblemView error={dashboard.error} />
      </section>
    );
  const data: Dashboard = dashboard.data;
  const canManage = me?.role === 'admin' || (me?.role === 'editor' && data.owner_id === me.id);
  const move = (from: number, to: number) => {
    if (from === to || to < 0 || to >= tiles.length) return;
    const next = [...tiles];
    const [tile] = next.splice(from, 1);
    if (tile) next.splice(to, 0, tile);
    setTiles(next);
  };
  const update = (index: number, tile: Tile) =>
    setTiles(tiles.map((item, at) => (at === index ? tile : item)));
  const onDrop = (event: DragEvent, index: number) => {
    event.preventDefault();
    if (dragged !== undefined) move(dragged, index);
    setDragged(undefined);
    setOver(undefined);
  };
  const exportAs = (format: 'png' | 'pdf') => {
    setExportError(undefined);
    download(`/api/v1/viz/dashboards/${id}/render.${format}`, `${data.title}.${format}`).catch(
      setExportError,
    );
  };

  return (
    <section>
      <h1 tabIndex={-1}>{data.title}</h1>
      {data.description && <p>{data.description}</p>}
      <div className="toolbar">
        {canManage && !editing && (
          <button type="button" onClick={() => setEditing(true)}>
            Edit layout
          </button>
        )}
        {canManage && (
          <button
            type="button"
            className="secondary"
            onClick={() => save.mutate({ visibility: data.visibility === 'shared' ? 'private' : 'shared' })}
          >
            {data.visibility === 'shared' ? 'Make private' : 'Share with everyone'}
          </button>
        )}
        <span className="badge subtle">{data.visibility}</span>
        <div className="group" role="group" aria-label="Export">
          <span>Export:</span>
          <button type="button" className="secondary" onClick={() => exportAs('png')}>
            PNG
          </button>
          <button type="button" className="secondary" onClick={() => exportAs('pdf')}>
            PDF
          </button>
        </div>
      </div>
      {exportError !== undefined && <ProblemView error={exportError} />}
      {save.isError && <ProblemView error={save.error} />}
      {editing && (
        <div className="card stack">
          <div className="toolbar">
            <label>
              Chart
              <select value={chartToAdd} onChange={(event) => setChartToAdd(event.target.value)}>
                <option value="">Choose a chart</option>
                {(charts.data?.charts ?? []).map((chart) => (
                  <option key={chart.id} value={chart.id}>
                    {chart.title}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              className="secondary"
              disabled={!chartToAdd}
              onClick={() => {
                setTiles([...tiles, { kind: 'chart', chart_id: chartToAdd, width: 6, height: CHART_ROWS }]);
                setChartToAdd('');
              }}
            >
              Add chart
            </button>
            <label>
              Text
              <input value={text} onChange={(event) => setText(event.target.value)} />
            </label>
            <button
              type="button"
              className="secondary"
              disabled={!text}
              onClick={() => {
                setTiles([...tiles, { kind: 'text', text, width: 12, height: TEXT_ROWS }]);
                setText('');
              }}
            >
              Add text
            </button>
          </div>
          <p className="muted small">Drag tiles to rearrange them, or use the arrow buttons.</p>
          <div className="toolbar">
            <button
              type="button"
              onClick={() => save.mutate({ layout: layoutOf(tiles) })}
              disabled={save.isPending}
            >
              Save layout
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                setTiles(data.tiles);
                setEditing(false);
              }}
            >
              Cancel
            </button>
          </div>
        </div>
      )}
      {tiles.length === 0 && (
        <Empty>This dashboard is empty.{canManage ? ' Edit the layout to add charts and text.' : ''}</Empty>
      )}
      <div className="dashboard-grid">
        {tiles.map((tile, index) => (
          <article
            key={`${tile.kind}-${index}-${tile.kind === 'chart' ? tile.chart_id : tile.text}`}
            className={`tile${over === index ? ' drop-target' : ''}`}
            style={{ gridColumn: `span ${tile.width}` }}
            draggable={editing}
            onDragStart={() => setDragged(index)}
            onDragOver={(event) => {
              if (!editing) return;
              event.preventDefault();
              setOver(index);
            }}
            onDragLeave={() => setOver(undefined)}
            onDrop={(event) => onDrop(event, index)}
            aria-label={tile.kind === 'text' ? 'Text block' : 'Chart'}
          >
            {editing && (
              <div className="tile-head">
                <span className="muted small">Tile {index + 1}</span>
                <div className="tile-actions">
                  <button
                    type="button"
                    className="secondary small"
                    aria-label={`Move tile ${index + 1} earlier`}
                    onClick={() => move(index, index - 1)}
                  >
                    ←
                  </button>
                  <button
                    type="button"
                    className="secondary small"
                    aria-label={`Move tile ${index + 1} later`}
                    onClick={() => move(index, index + 1)}
                  >
                    →
                  </button>
                  <select
                    aria-label={`Width of tile ${index + 1}`}
                    value={tile.width}
                    onChange={(event) => update(index, { ...tile, width: Number(event.target.value) })}
                  >
                    {WIDTHS.map(([value, label]) => (
                      <option key={value} value={value}>
                        {label}
                      </option>
                    ))}
                  </select>
                  <button
                    type="button"
                    className="danger small"
                    aria-label={`Remove tile ${index + 1}`}
                    onClick={() => setTiles(tiles.filter((_, at) => at !== index))}
                  >
                    ✕
                  </button>
                </div>
              </div>
            )}
            {tile.kind === 'chart' ? (
              <ChartTile chartId={tile.chart_id} />
            ) : (
              <p className="tile-text">{tile.text}</p>
            )}
          </article>
        ))}
      </div>
    </section>
  );
}
