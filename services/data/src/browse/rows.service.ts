import type { Principal } from '@datalab/platform';
import { createCatalog } from '../datasets/datasets.catalog.ts';
import type { DatasetsRepository } from '../datasets/datasets.repository.ts';
import type { RowsPage, RowsQuery } from './browse.schemas.ts';
import { encodeCursor, planRows } from './rows.params.ts';
import type { RowsReader } from './rows.reader.ts';

export function createRowsService(datasets: DatasetsRepository, rows: RowsReader) {
  const catalog = createCatalog(datasets);

  return {
    /** One page of a dataset's rows, filtered and sorted, with the cursor of the next. */
    async page(principal: Principal, idOrName: string, query: RowsQuery): Promise<RowsPage> {
      const dataset = await catalog.readable(principal, idOrName);
      const plan = planRows(dataset.columns, query);
      const result = await rows.page(dataset, plan);
      return {
        columns: dataset.columns.map(({ name, original_name, type }) => ({ name, original_name, type })),
        rows: result.rows,
        next: result.next ? encodeCursor(plan.sort, result.next) : null,
      };
    },
  };
}

export type RowsService = ReturnType<typeof createRowsService>;
