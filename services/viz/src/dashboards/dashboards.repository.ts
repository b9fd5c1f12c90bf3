import type { Pool, Visibility } from '@datalab/platform';
import { createOwnedTable, type OwnedRow } from '../owned/owned-table.ts';
import type { Layout } from './dashboards.schemas.ts';

export type DashboardRow = OwnedRow<'layout', Layout>;

export interface DashboardChanges {
  title?: string | undefined;
  description?: string | undefined;
  visibility?: Visibility | undefined;
  layout?: Layout | undefined;
}

export function createDashboardsRepository(pool: Pool) {
  const table = createOwnedTable<'layout', Layout>(pool, 'viz.dashboards', 'layout');
  return {
    ...table,
    insert: (dashboard: {
      ownerId: string;
      visibility: Visibility;
      title: string;
      description: string;
      layout: Layout;
    }) => table.insert({ ...dashboard, body: dashboard.layout }),
    update: (id: string, { layout, ...changes }: DashboardChanges) =>
      table.update(id, { ...changes, body: layout }),
  };
}

export type DashboardsRepository = ReturnType<typeof createDashboardsRepository>;
