import {
  AppError,
  assertCanCreate,
  assertCanManage,
  assertCanRead,
  type OwnedResource,
  type Principal,
} from '@datalab/platform';
import { readThrough, type EventMemory } from '../memory/event-memory.ts';
import type { ChartRow, ChartsRepository, ChartSummaryRow } from './charts.repository.ts';
import type {
  Chart,
  ChartList,
  ChartSummary,
  CreateChartBody,
  ListChartsQuery,
  UpdateChartBody,
} from './charts.schemas.ts';
import { assertValidSpec, type ChartSpec } from './charts.spec.ts';

const WHAT = 'chart';

/** Announced by every instance after it changes or deletes a chart: the others forget theirs at once. */
export const CHART_CHANGED = 'viz.chart-changed';

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

/**
 * `memory` keeps recently read charts (renders read the same ones over and over); the caller's
 * access is checked on every read all the same. Changes always read PostgreSQL, then tell every
 * instance to forget what it remembers.
 */
export function createChartsService(charts: ChartsRepository, memory?: EventMemory<ChartRow>) {
  const find = readThrough(memory, (id) => charts.findById(id));

  /** The chart if the caller may read it; `not_found` otherwise, whether or not it exists. */
  async function readable(principal: Principal, id: string): Promise<ChartRow> {
    const row = await find(id);
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

    /** Only the spec of a chart the caller may read: what a render needs, without the dates formatted. */
    async spec(principal: Principal, id: string): Promise<ChartSpec> {
      return (await readable(principal, id)).spec;
    },

    async update(principal: Principal, id: string, changes: UpdateChartBody): Promise<Chart> {
      await manageable(principal, id);
      if (changes.spec !== undefined) assertValidSpec(changes.spec, '/body/spec');
      const row = await charts.update(id, changes);
      await memory?.changed();
      // Deleted between the check and the update.
      if (!row) throw new AppError('not_found', `${WHAT} not found`);
      return toChart(row);
    },

    async delete(principal: Principal, id: string): Promise<void> {
      await manageable(principal, id);
      const deleted = await charts.delete(id);
      await memory?.changed();
      if (!deleted) throw new AppError('not_found', `${WHAT} not found`);
    },
  };
}

export type ChartsService = ReturnType<typeof createChartsService>;
