import { principalOf, type App } from '@datalab/platform';
import { DatasetIdParams } from '../datasets/datasets.schemas.ts';
import { DatasetProfile, RowsPage, RowsQuery } from './browse.schemas.ts';
import type { ProfileService } from './profile.service.ts';
import type { RowsService } from './rows.service.ts';

const tags = ['datasets'];

export interface BrowseServices {
  rows: RowsService;
  profiles: ProfileService;
}

export function browseRoutes(app: App, services: BrowseServices): void {
  app.get(
    '/api/v1/data/datasets/:id/rows',
    {
      schema: {
        tags,
        summary: 'A page of rows (by dataset id or name): sorted, filtered, with a cursor to the next page.',
        params: DatasetIdParams,
        querystring: RowsQuery,
        response: { 200: RowsPage },
      },
    },
    (request) => services.rows.page(principalOf(request), request.params.id, request.query),
  );

  app.get(
    '/api/v1/data/datasets/:id/profile',
    {
      schema: {
        tags,
        summary: "Per-column statistics of the dataset's current version, computed once per version.",
        params: DatasetIdParams,
        response: { 200: DatasetProfile },
      },
    },
    (request) => services.profiles.get(principalOf(request), request.params.id),
  );
}
