import { AppError, assertCanRead, type Principal } from '@datalab/platform';
import type { DatasetsRepository } from './datasets.repository.ts';
import type { Dataset } from './datasets.types.ts';

/** Finding datasets the way every reader must: what the caller may not read does not exist (404). */
export function createCatalog(repository: DatasetsRepository) {
  return {
    async readable(principal: Principal, idOrName: string): Promise<Dataset> {
      const dataset = await repository.find(idOrName);
      assertCanRead(principal, dataset, 'Dataset');
      return dataset!;
    },

    /** Several datasets by name (SQL references them so); the first unknown or unreadable name is a 404. */
    async readableByNames(principal: Principal, names: readonly string[]): Promise<Map<string, Dataset>> {
      const found = new Map((await repository.findByNames(names)).map((d) => [d.name, d]));
      for (const name of names) {
        const dataset = found.get(name.toLowerCase());
        if (!dataset) throw new AppError('not_found', `Dataset "${name}" not found`);
        assertCanRead(principal, dataset, `Dataset "${name}"`);
      }
      return found;
    },
  };
}

export type Catalog = ReturnType<typeof createCatalog>;
