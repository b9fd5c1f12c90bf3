import { scan, type ScanToken } from 'libpg-query';
import { quoteIdent } from '../datasets/datasets.types.ts';
import { inspectSelect, type TableReference } from './sql-guard.ts';

/**
 * Points each dataset name in the caller's SQL at its table. There is no
 * deparser to print a changed tree, so the text is edited at the byte offsets
 * the parser reported: `sales` becomes `datasets."t_…" AS sales`. Unlike
 * wrapping the query in CTEs, this keeps the caller's own WITH list, CTE
 * scoping and name shadowing exactly as written, and the plan is the one the
 * caller would get on the table itself (no CTE materialisation). The result
 * is parsed and checked again before it runs.
 */

export interface RewrittenSql {
  text: string;
  /** Maps a byte offset in `text` back to the caller's SQL, for error positions. */
  originalOffset: (rewrittenOffset: number) => number;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

const lower = (token: ScanToken | undefined): string => token?.text.toLowerCase() ?? '';

function editFor(reference: TableReference, tokens: ScanToken[], table: string): Edit {
  const index = tokens.findIndex((token) => token.start === reference.location);
  const token = tokens[index];
  if (!token) throw new Error(`no token at byte ${reference.location} for ${reference.name}`);
  const alias = ` AS ${quoteIdent(reference.name)}`;
  // `TABLE sales` takes no alias; an alias the caller wrote stays where it is.
  if (reference.hasAlias || lower(tokens[index - 1]) === 'table') {
    return { start: token.start, end: token.end, text: table };
  }
  const next = tokens[index + 1];
  // `ONLY (sales)` and the old `sales *` put the alias after the bracket or star.
  const wrapped =
    lower(tokens[index - 1]) === '(' && lower(tokens[index - 2]) === 'only' && lower(next) === ')';
  if (wrapped || lower(next) === '*') {
    return { start: token.start, end: next!.end, text: `${table}${next!.text}${alias}` };
  }
  return { start: token.start, end: token.end, text: `${table}${alias}` };
}

function offsetMapper(edits: readonly Edit[]): (rewrittenOffset: number) => number {
  return (rewritten) => {
    let shift = 0;
    for (const edit of edits) {
      const start = edit.start + shift;
      const length = Buffer.byteLength(edit.text);
      if (rewritten < start) break;
      if (rewritten < start + length) return edit.start;
      shift += length - (edit.end - edit.start);
    }
    return rewritten - shift;
  };
}

/** `tables` maps each referenced name (lower case) to its quoted, schema-qualified table. */
export async function rewriteReferences(
  sql: string,
  references: readonly TableReference[],
  tables: ReadonlyMap<string, string>,
): Promise<RewrittenSql> {
  const { tokens } = await scan(sql);
  const edits = references
    .map((reference) => {
      const table = tables.get(reference.name.toLowerCase());
      if (!table) throw new Error(`no table for dataset ${reference.name}`);
      return editFor(reference, tokens, table);
    })
    .sort((a, b) => a.start - b.start);
  const bytes = Buffer.from(sql, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  for (const edit of edits) {
    parts.push(bytes.subarray(at, edit.start), Buffer.from(edit.text, 'utf8'));
    at = edit.end;
  }
  parts.push(bytes.subarray(at));
  return { text: Buffer.concat(parts).toString('utf8'), originalOffset: offsetMapper(edits) };
}

/**
 * The rewritten text must read exactly the resolved dataset tables and nothing
 * else; a mistake in the rewrite is a bug, never something to run.
 */
export async function assertReadsOnly(text: string, tableNames: ReadonlySet<string>): Promise<void> {
  const { references } = await inspectSelect(text);
  for (const reference of references) {
    if (reference.schema !== 'datasets' || !tableNames.has(reference.name)) {
      throw new Error(`rewritten query reads ${reference.schema ?? '(no schema)'}.${reference.name}`);
    }
  }
}
