import {
  AppError,
  assertCanManage,
  assertCanRead,
  type OwnedResource,
  type Principal,
} from '@datalab/platform';
import { readThrough, type EventMemory } from '../memory/event-memory.ts';
import type { OwnedFilter, OwnedSummaryRow } from './owned-table.ts';

/** A row's shared fields as the API answers them. */
export function toSummary(row: OwnedSummaryRow) {
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

/** What a list covers: admins everything, others their own and the shared ones; `owner=me` only theirs. */
export function listFilter(principal: Principal, owner: 'me' | undefined): OwnedFilter {
  return {
    ownerId: owner === 'me' ? principal.userId : undefined,
    readerId: principal.role === 'admin' ? undefined : principal.userId,
  };
}

function ownership(row: OwnedSummaryRow | undefined): OwnedResource | undefined {
  return row && { ownerId: row.owner_id, visibility: row.visibility };
}

/**
 * Who may read and change the rows of one kind (`what`: "chart", "dashboard"). Reads go through
 * `memory` (renders read the same rows over and over), the caller's access checked every time;
 * changes always read PostgreSQL, then tell every instance to forget what it remembers.
 */
export function createOwnedAccess<Row extends OwnedSummaryRow>(
  what: string,
  findById: (id: string) => Promise<Row | undefined>,
  memory: EventMemory<Row> | undefined,
) {
  const find = readThrough(memory, findById);
  return {
    /** The row if the caller may read it; `not_found` otherwise, whether or not it exists. */
    readable: async (principal: Principal, id: string): Promise<Row> => {
      const row = await find(id);
      assertCanRead(principal, ownership(row), what);
      return row!;
    },

    /** The row if the caller may change it: `not_found` when unreadable, `forbidden` when only readable. */
    manageable: async (principal: Principal, id: string): Promise<Row> => {
      const row = await findById(id);
      assertCanManage(principal, ownership(row), what);
      return row!;
    },

    /** After an update or delete: every instance forgets; a row gone meanwhile is `not_found`. */
    changed: async <T>(outcome: T | undefined | false): Promise<T> => {
      await memory?.changed();
      if (!outcome) throw new AppError('not_found', `${what} not found`);
      return outcome;
    },
  };
}
