import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import type { Chart } from '../api/types.ts';
import { inlineData } from '../charts/inline-data.ts';
import { VegaView } from '../charts/vega-view.tsx';
import { Loading, ProblemView } from '../components/states.tsx';

/** A saved chart drawn inside a dashboard tile, its data fetched as the viewer. */
export function ChartTile({ chartId }: { chartId: string }) {
  const chart = useQuery({
    queryKey: ['chart', chartId],
    queryFn: () => api<Chart>(`/api/v1/viz/charts/${chartId}`),
  });
  const spec = useQuery({
    queryKey: ['chart-inline', chartId, chart.data?.updated_at],
    queryFn: () => inlineData(chart.data!.spec),
    enabled: chart.data !== undefined,
  });
  if (chart.isPending || (chart.data && spec.isPending)) return <Loading label="Drawing the chart…" />;
  if (chart.isError) return <ProblemView error={chart.error} />;
  if (spec.isError) return <ProblemView error={spec.error} />;
  return (
    <div>
      <h3>
        <Link to={`/charts/${chartId}`}>{chart.data.title}</Link>
      </h3>
      <VegaView spec={{ ...spec.data, title: undefined }} label={chart.data.title} />
    </div>
  );
}
