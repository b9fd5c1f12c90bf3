import { AppError, assertCanCreate, type Principal } from '@datalab/platform';
import type { EventMemory } from '../memory/event-memory.ts';
import type { ChartsService } from '../charts/charts.service.ts';
import { createOwnedAccess, listFilter, toSummary } from '../owned/owned-access.ts';
import type { DashboardRow, DashboardsRepository } from './dashboards.repository.ts';
import type {
  CreateDashboardBody,
  Dashboard,
  DashboardList,
  Layout,
  ListDashboardsQuery,
  UpdateDashboardBody,
} from './dashboards.schemas.ts';

const WHAT = 'dashboard';

/** Announced by every instance after it changes or deletes a dashboard: the others forget theirs at once. */
export const DASHBOARD_CHANGED = 'viz.dashboard-changed';

function toDashboard(row: DashboardRow): Dashboard {
  return { ...toSummary(row), layout: row.layout };
}

/** `memory` as for charts (charts.service.ts): reads through it, changes read PostgreSQL and announce. */
export function createDashboardsService(
  dashboards: DashboardsRepository,
  charts: ChartsService,
  memory?: EventMemory<DashboardRow>,
) {
  const { readable, manageable, changed } = createOwnedAccess(WHAT, (id) => dashboards.findById(id), memory);

  /**
   * Every item fits in the grid, and every chart is one the author may read:
   * a dashboard cannot be used to show a chart its author cannot see.
   */
  async function assertValidLayout(principal: Principal, layout: Layout): Promise<void> {
    const errors: { field: string; message: string }[] = [];
    for (const [i, item] of layout.items.entries()) {
      if (item.x + item.w > layout.columns)
        errors.push({
          field: `/body/layout/items/${i}/w`,
          message: `x + w must be at most columns (${layout.columns})`,
        });
      if (item.type === 'chart') {
        await charts.get(principal, item.chart_id).catch((error: unknown) => {
          if (!(error instanceof AppError) || error.kind !== 'not_found') throw error;
          errors.push({
            field: `/body/layout/items/${i}/chart_id`,
            message: 'no such chart (or not one you may read)',
          });
        });
      }
    }
    if (errors.length > 0)
      throw new AppError(
        'invalid',
        `The dashboard layout is wrong: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`,
        { errors },
      );
  }

  return {
    readable,

    async create(principal: Principal, input: CreateDashboardBody): Promise<Dashboard> {
      assertCanCreate(principal, WHAT);
      await assertValidLayout(principal, input.layout);
      const row = await dashboards.insert({
        ownerId: principal.userId,
        visibility: input.visibility ?? 'private',
        title: input.title,
        description: input.description ?? '',
        layout: input.layout,
      });
      return toDashboard(row);
    },

    async list(principal: Principal, query: ListDashboardsQuery): Promise<DashboardList> {
      const { rows, total } = await dashboards.list(
        listFilter(principal, query.owner),
        query.limit,
        query.offset,
      );
      return { dashboards: rows.map(toSummary), total };
    },

    async get(principal: Principal, id: string): Promise<Dashboard> {
      return toDashboard(await readable(principal, id));
    },

    async update(principal: Principal, id: string, changes: UpdateDashboardBody): Promise<Dashboard> {
      await manageable(principal, id);
      if (changes.layout) await assertValidLayout(principal, changes.layout);
      return toDashboard(await changed(await dashboards.update(id, changes)));
    },

    async delete(principal: Principal, id: string): Promise<void> {
      await manageable(principal, id);
      await changed(await dashboards.delete(id));
    },
  };
}

export type DashboardsService = ReturnType<typeof createDashboardsService>;
