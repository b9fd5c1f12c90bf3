import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { api, download } from '../api/client.ts';
import type { Chart, Dataset, Visibility } from '../api/types.ts';
import { canEdit, useSession } from '../auth/session.tsx';
import { AGGREGATES, builderStateOf, CHART_TYPES, specFor, type BuilderState } from '../charts/builder.ts';
import { inlineData } from '../charts/inline-data.ts';
import { VegaView } from '../charts/vega-view.tsx';
import { Empty, Loading, ProblemView } from '../components/states.tsx';

const TYPE_LABELS: Record<string, string> = {
  bar: 'Bar',
  line: 'Line',
  area: 'Area',
  point: 'Scatter',
  arc: 'Pie',
};

function Preview({ spec }: { spec: Record<string, unknown> }) {
  const inlined = useQuery({ queryKey: ['chart-preview', spec], queryFn: () => inlineData(spec) });
  if (inlined.isPending) return <Loading label="Fetching the chart's data…" />;
  if (inlined.isError) return <ProblemView error={inlined.error} />;
  return <VegaView spec={inlined.data} label="Chart preview" actions />;
}

export default function ChartBuilderPage() {
  const { id } = useParams();
  const [params] = useSearchParams();
  const { me } = useSession();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [state, setState] = useState<BuilderState>({
    dataset: params.get('dataset') ?? '',
    type: 'bar',
    x: '',
    y: '',
    aggregate: 'sum',
    color: '',
    title: '',
  });
  const [visibility, setVisibility] = useState<Visibility>('private');
  const [downloadError, setDownloadError] = useState<unknown>();
  const datasets = useQuery({
    queryKey: ['datasets', '', false],
    queryFn: () =>
      api<{ datasets: Dataset[]; total: number }>('/api/v1/data/datasets', { query: { limit: 500 } }),
  });
  const chart = useQuery({
    queryKey: ['chart', id],
    queryFn: () => api<Chart>(`/api/v1/viz/charts/${id}`),
    enabled: id !== undefined,
  });
  useEffect(() => {
    if (!chart.data) return;
    const saved = builderStateOf(chart.data.spec);
    if (saved) setState({ ...saved, title: chart.data.title });
    setVisibility(chart.data.visibility);
  }, [chart.data]);

  const dataset = datasets.data?.datasets.find(
    (item) => item.name === state.dataset || item.id === state.dataset,
  );
  const columns = dataset?.columns ?? [];
  useEffect(() => {
    if (!dataset || columns.some((column) => column.name === state.x)) return;
    const numeric = columns.find((column) => column.type === 'integer' || column.type === 'float');
    const text = columns.find((column) => column.type === 'text') ?? columns[0];
    setState((old) => ({ ...old, x: text?.name ?? '', y: numeric?.name ?? columns[0]?.name ?? '' }));
  }, [dataset, columns, state.x]);

  const ready = dataset !== undefined && state.x !== '' && (state.aggregate === 'count' || state.y !== '');
  const spec = ready ? specFor({ ...state, dataset: dataset.name }, columns) : undefined;
  const owned = chart.data === undefined || chart.data.owner_id === me?.id || me?.role === 'admin';

  const save = useMutation({
    mutationFn: async () => {
      const body = { title: state.title || `${state.type} of ${state.y} by ${state.x}`, visibility, spec };
      return id
        ? api<Chart>(`/api/v1/viz/charts/${id}`, { method: 'PATCH', body })
        : api<Chart>('/api/v1/viz/charts', { method: 'POST', body });
    },
    onSuccess: (saved) => {
      void client.invalidateQueries({ queryKey: ['charts'] });
      client.setQueryData(['chart', saved.id], saved);
      if (!id) void navigate(`/charts/${saved.id}`, { replace: true });
    },
  });
  const set =
    <K extends keyof BuilderState>(key: K) =>
    (value: BuilderState[K]) =>
      setState((old) => ({ ...old, [key]: value }));
  const exportAs = (format: 'png' | 'svg' | 'pdf') => {
    setDownloadError(undefined);
    download(`/api/v1/viz/charts/${id}/render.${format}`, `${state.title || 'chart'}.${format}`).catch(
      setDownloadError,
    );
  };

  if (id && chart.isPending) return <Loading />;
  if (id && chart.isError)
    return (
      <section>
        <h1 tabIndex={-1}>Chart</h1>
        <ProblemView error={chart.error} />
      </section>
    );
  return (
    <section>
      <h1 tabIndex={-1}>{id ? (chart.data?.title ?? 'Chart') : 'New chart'}</h1>
      <div className="builder">
        <form
          className="card stack"
          aria-label="Chart settings"
          onSubmit={(event) => {
            event.preventDefault();
            save.mutate();
          }}
        >
          <label>
            Title
            <input
              value={state.title}
              maxLength={200}
              onChange={(event) => set('title')(event.target.value)}
            />
          </label>
          <label>
            Dataset
            <select
              value={dataset?.name ?? ''}
              onChange={(event) =>
                setState({ ...state, dataset: event.target.value, x: '', y: '', color: '' })
              }
            >
              <option value="">Choose a dataset</option>
              {(datasets.data?.datasets ?? []).map((item) => (
                <option key={item.id} value={item.name}>
                  {item.name}
                </option>
              ))}
            </select>
          </label>
          <fieldset>
            <legend>Chart type</legend>
            <div className="radio-row">
              {CHART_TYPES.map((type) => (
                <label key={type} className="inline">
                  <input
                    type="radio"
                    name="type"
                    value={type}
                    checked={state.type === type}
                    onChange={() => set('type')(type)}
                  />
                  {TYPE_LABELS[type]}
                </label>
              ))}
            </div>
          </fieldset>
          <label>
            {state.type === 'arc' ? 'Slices (category)' : 'X axis'}
            <select value={state.x} onChange={(event) => set('x')(event.target.value)} disabled={!dataset}>
              {columns.map((column) => (
                <option key={column.name}>{column.name}</option>
              ))}
            </select>
          </label>
          <label>
            Aggregate
            <select
              value={state.aggregate}
              onChange={(event) => set('aggregate')(event.target.value as BuilderState['aggregate'])}
            >
              {AGGREGATES.map((item) => (
                <option key={item}>{item}</option>
              ))}
              <option value="none">none (raw points)</option>
            </select>
          </label>
          {state.aggregate !== 'count' && (
            <label>
              {state.type === 'arc' ? 'Size' : 'Y axis'}
              <select value={state.y} onChange={(event) => set('y')(event.target.value)} disabled={!dataset}>
                {columns.map((column) => (
                  <option key={column.name}>{column.name}</option>
                ))}
              </select>
            </label>
          )}
          {state.type !== 'arc' && (
            <label>
              Colour by
              <select
                value={state.color}
                onChange={(event) => set('color')(event.target.value)}
                disabled={!dataset}
              >
                <option value="">nothing</option>
                {columns.map((column) => (
                  <option key={column.name}>{column.name}</option>
                ))}
              </select>
            </label>
          )}
          <label>
            Visibility
            <select value={visibility} onChange={(event) => setVisibility(event.target.value as Visibility)}>
              <option value="private">Private</option>
              <option value="shared">Shared</option>
            </select>
          </label>
          {canEdit(me) && owned && (
            <button type="submit" disabled={!spec || save.isPending}>
              {save.isPending ? 'Saving…' : id ? 'Save changes' : 'Save chart'}
            </button>
          )}
          {save.isError && <ProblemView error={save.error} />}
          {save.isSuccess && (
            <p className="notice" role="status">
              Chart saved.
            </p>
          )}
        </form>
        <div className="stack">
          {spec ? <Preview spec={spec} /> : <Empty>Choose a dataset and the fields to see a preview.</Empty>}
          {id && (
            <div className="toolbar">
              <span>Download:</span>
              {(['png', 'svg', 'pdf'] as const).map((format) => (
                <button key={format} type="button" className="secondary" onClick={() => exportAs(format)}>
                  {format.toUpperCase()}
                </button>
              ))}
            </div>
          )}
          {downloadError !== undefined && <ProblemView error={downloadError} />}
        </div>
      </div>
    </section>
  );
}
