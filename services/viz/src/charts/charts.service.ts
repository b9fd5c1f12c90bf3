import { assertCanCreate, type Principal } from '@datalab/platform';
import type { EventMemory } from '../memory/event-memory.ts';
import { createOwnedAccess, listFilter, toSummary } from '../owned/owned-access.ts';
import type { ChartRow, ChartsRepository } from './charts.repository.ts';
import type {
  Chart,
  ChartList,
  CreateChartBody,
  ListChartsQuery,
  UpdateChartBody,
} from './charts.schemas.ts';
import { assertValidSpec, type ChartSpec } from './charts.spec.ts';

const WHAT = 'chart';

/** Announced by every instance after it changes or deletes a chart: the others forget theirs at once. */
export const CHART_CHANGED = 'viz.chart-changed';

function toChart(row: ChartRow): Chart {
  return { ...toSummary(row), spec: row.spec };
}

/** `memory` keeps recently read charts; see createOwnedAccess. */
export function createChartsService(charts: ChartsRepository, memory?: EventMemory<ChartRow>) {
  const { readable, manageable, changed } = createOwnedAccess(WHAT, (id) => charts.findById(id), memory);

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
      const { rows, total } = await charts.list(
        listFilter(principal, query.owner),
        query.limit,
        query.offset,
      );
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
      // Deleted between the check and the update: not found.
      return toChart(await changed(await charts.update(id, changes)));
    },

    async delete(principal: Principal, id: string): Promise<void> {
      await manageable(principal, id);
      await changed(await charts.delete(id));
    },
  };
}

export type ChartsService = ReturnType<typeof createChartsService>;
