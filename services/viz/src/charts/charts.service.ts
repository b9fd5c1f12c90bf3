import {
  AppError,
  assertCanCreate,
  assertCanManage,
  assertCanRead,
  type OwnedResource,
  type Principal,
} from '@datalab/platform';
import type { ChartRow, ChartsRepository, ChartSummaryRow } from './charts.repository.ts';
import type {
  Chart,
  ChartList,
  ChartSummary,
  CreateChartBody,
  ListChartsQuery,
  UpdateChartBody,
} from './charts.schemas.ts';
import { assertValidSpec } from './charts.spec.ts';

const WHAT = 'chart';

function toSummary(row: ChartSummaryRow): ChartSummary {
  return {
    id: row.id,
    owner_id: row.owner_id,
    visibility: row.visibility,
    title: row.title,
    description: row.description,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

function toChart(row: ChartRow): Chart {
  return { ...toSummary(row), spec: row.spec };
}

function ownership(row: ChartRow | undefined): OwnedResource | undefined {
  return row && { ownerId: row.owner_id, visibility: row.visibility };
}

export function createChartsService(charts: ChartsRepository) {
  /** The chart if the caller may read it; `not_found` otherwise, whether or not it exists. */
  async function readable(principal: Principal, id: string): Promise<ChartRow> {
    const row = await charts.findById(id);
    assertCanRead(principal, ownership(row), WHAT);
    return row!;
  }

  /** The chart if the caller may change it: `not_found` when unreadable, `forbidden` when only readable. */
  async function manageable(principal: Principal, id: string): Promise<ChartRow> {
    const row = await charts.findById(id);
    assertCanManage(principal, ownership(row), WHAT);
    return row!;
  }

  return {
    async create(principal: Principal, input: CreateChartBody): Promise<Chart> {
      assertCanCreate(principal, WHAT);
      assertValidSpec(input.spec, '/body/spec');
      const row = await charts.insert({
        ownerId: principal.userId,
        visibility: input.visibility ?? 'private',
        title: input.title,
        description: input.description ?? '',
        spec: input.spec,
      });
      return toChart(row);
    },

    /** What the caller may read: admins everything, others their own and the shared ones. */
    async list(principal: Principal, query: ListChartsQuery): Promise<ChartList> {
      const filter = {
        ownerId: query.owner === 'me' ? principal.userId : undefined,
        readerId: principal.role === 'admin' ? undefined : principal.userId,
      };
      const { rows, total } = await charts.list(filter, query.limit, query.offset);
      return { charts: rows.map(toSummary), total };
    },

    async get(principal: Principal, id: string): Promise<Chart> {
      return toChart(await readable(principal, id));
    },

    async update(principal: Principal, id: string, changes: UpdateChartBody): Promise<Chart> {
      await manageable(principal, id);
      if (changes.spec !== undefined) assertValidSpec(changes.spec, '/body/spec');
      const row = await charts.update(id, changes);
      // Deleted between the check and the update.
      if (!row) throw new AppError('not_found', `${WHAT} not found`);
      return toChart(row);
    },

    async delete(principal: Principal, id: string): Promise<void> {
      await manageable(principal, id);
      if (!(await charts.delete(id))) throw new AppError('not_found', `${WHAT} not found`);
    },
  };
}

export type ChartsService = ReturnType<typeof createChartsService>;
