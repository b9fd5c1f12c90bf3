import type { Pool, Visibility } from '@datalab/platform';
import { createOwnedTable, type OwnedRow } from '../owned/owned-table.ts';
import type { ChartSpec } from './charts.spec.ts';

export type ChartRow = OwnedRow<'spec', ChartSpec>;

export interface ChartChanges {
  title?: string | undefined;
  description?: string | undefined;
  visibility?: Visibility | undefined;
  spec?: ChartSpec | undefined;
}

export function createChartsRepository(pool: Pool) {
  const table = createOwnedTable<'spec', ChartSpec>(pool, 'viz.charts', 'spec');
  return {
    ...table,
    insert: (chart: {
      ownerId: string;
      visibility: Visibility;
      title: string;
      description: string;
      spec: ChartSpec;
    }) => table.insert({ ...chart, body: chart.spec }),
    update: (id: string, { spec, ...changes }: ChartChanges) => table.update(id, { ...changes, body: spec }),
  };
}

export type ChartsRepository = ReturnType<typeof createChartsRepository>;
