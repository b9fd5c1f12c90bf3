import { AppError, type Principal } from '@datalab/platform';
import type { Catalog } from '../datasets/datasets.catalog.ts';
import { quoteIdent } from '../datasets/datasets.types.ts';
import type { GuardedSql } from '../engine/duck-guard.ts';
import { safeNames } from '../ingest/names.ts';
import type { TransformParams, TransformStep } from './transform.schemas.ts';

/**
 * Turns a transform (a dataset and a list of steps, in JSON) into one DuckDB
 * SELECT over dataset names: each step a subquery of the one before. The SQL
 * then runs exactly like the owner's own query (guard, catalog), so a
 * transform can read nothing its owner could not query. Steps are subqueries
 * rather than named CTEs because DuckDB names are case-insensitive, quoted or
 * not: any CTE name a dataset could have would hide that dataset.
 */

export interface CompileDeps {
  catalog: Catalog;
  owner: Principal;
  /** The engine's guard: expressions are checked as user SQL is. */
  guard: (sql: string) => Promise<GuardedSql>;
  /** Distinct values of one column of a query's rows, as text (for pivot), at most `limit`. */
  distinctValues: (sql: string, limit: number) => Promise<(string | null)[]>;
}

type StepOf<K extends TransformStep['op']> = Extract<TransformStep, { op: K }>;

const DEFAULT_PIVOT_COLUMNS = 100;

const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

function refuse(field: string, message: string): never {
  throw new AppError('invalid', `${field}: ${message}`, { errors: [{ field, message }] });
}

function known(columns: readonly string[], column: string, field: string): string {
  if (!columns.includes(column))
    refuse(field, `there is no column "${column}" here (columns: ${columns.join(', ')})`);
  return quoteIdent(column);
}

type Tree = Record<string, unknown>;

const isTree = (value: unknown): value is Tree =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A part of a SELECT that says nothing: no WHERE, no GROUP BY, no CTE, … */
const isEmpty = (value: unknown): boolean =>
  value === null ||
  (Array.isArray(value) && value.length === 0) ||
  (isTree(value) && Array.isArray(value.map) && value.map.length === 0);

/** The SELECT parts a lone expression has: its one item, and a FROM that is empty. */
const EXPRESSION_PARTS = new Set(['type', 'select_list', 'from_table', 'aggregate_handling']);

/** An expression is one value: no FROM, no second column, no star, no dataset, no statement around it. */
async function checkExpression(
  expression: string,
  field: string,
  guard: CompileDeps['guard'],
): Promise<string> {
  let guarded: GuardedSql;
  try {
    guarded = await guard(`SELECT (${expression}\n)`);
  } catch (error) {
    refuse(field, error instanceof Error ? error.message : String(error));
  }
  const statement = JSON.parse(guarded.normalized) as Tree;
  const select = isTree(statement.node) ? statement.node : {};
  const items = Array.isArray(select.select_list) ? select.select_list.filter(isTree) : [];
  const single =
    select.type === 'SELECT_NODE' &&
    items.length === 1 &&
    items[0]!.class !== 'STAR' &&
    isTree(select.from_table) &&
    select.from_table.type === 'EMPTY' &&
    Object.entries(select).every(([part, value]) => EXPRESSION_PARTS.has(part) || isEmpty(value));
  if (!single || guarded.references.length > 0) refuse(field, 'must be a single expression over the columns');
  return `(${expression}\n)`;
}

/**
 * The alias a sample or split gives the step before: as a value it is the whole row (a STRUCT).
 * No column can be named so (column names are identifiers), so none hides it.
 */
const ROW = '"each row"';

/** A repeatable pseudo-random number in [0, 2^32) per row, from its values and the seed, as 8 hex digits. */
const rowHash = (seed: string | undefined): string =>
  `substr(md5(CAST(${ROW} AS VARCHAR) || ${literal(seed ?? '')}), 1, 8)`;

/** `fraction` of 2^32 as 8 hex digits: hashes below it are picked. */
const threshold = (fraction: number): string =>
  literal(
    Math.min(0xffffffff, Math.floor(fraction * 2 ** 32))
      .toString(16)
      .padStart(8, '0'),
  );

export function createTransformCompiler(deps: CompileDeps) {
  const datasetColumns = async (idOrName: string, field: string) => {
    const dataset = await deps.catalog.readable(deps.owner, idOrName).catch((error: unknown) => {
      if (error instanceof AppError) refuse(field, error.message);
      throw error;
    });
    return { name: quoteIdent(dataset.name), columns: dataset.columns.map((column) => column.name) };
  };

  const expression = (text: string, field: string): Promise<string> =>
    checkExpression(text, field, deps.guard);

  /** `from` is the step before, a parenthesized SELECT. */
  async function apply(step: TransformStep, from: string, columns: string[], at: string) {
    const all = columns.map(quoteIdent).join(', ');
    switch (step.op) {
      case 'filter':
        return {
          sql: `SELECT * FROM ${from} AS prev WHERE ${await expression(step.where, `${at}.where`)}`,
          columns,
        };
      case 'derive': {
        const derived = new Map<string, string>();
        for (const [name, text] of Object.entries(step.columns))
          derived.set(name, await expression(text, `${at}.columns.${name}`));
        const kept = columns.map((c) =>
          derived.has(c) ? `${derived.get(c)} AS ${quoteIdent(c)}` : quoteIdent(c),
        );
        const added = [...derived].filter(([name]) => !columns.includes(name));
        const items = [...kept, ...added.map(([name, sql]) => `${sql} AS ${quoteIdent(name)}`)];
        return {
          sql: `SELECT ${items.join(', ')} FROM ${from} AS prev`,
          columns: [...columns, ...added.map(([n]) => n)],
        };
      }
      case 'select': {
        const names = step.columns.map((c) => step.rename?.[c] ?? c);
        if (new Set(names).size !== names.length)
          refuse(`${at}.columns`, 'names the same output column twice');
        const items = step.columns.map(
          (c, i) => `${known(columns, c, `${at}.columns[${i}]`)} AS ${quoteIdent(names[i]!)}`,
        );
        return { sql: `SELECT ${items.join(', ')} FROM ${from} AS prev`, columns: names };
      }
      case 'join':
        return join(step, from, columns, at);
      case 'union': {
        const other = await datasetColumns(step.dataset, `${at}.dataset`);
        const missing = columns.filter((c) => !other.columns.includes(c));
        if (missing.length > 0) refuse(`${at}.dataset`, `has no column ${missing.join(', ')}`);
        const how = step.distinct ? 'UNION' : 'UNION ALL';
        return {
          sql: `SELECT ${all} FROM ${from} AS prev ${how} SELECT ${all} FROM ${other.name} AS other`,
          columns,
        };
      }
      case 'pivot':
        return pivot(step, from, columns, at);
      case 'sample': {
        if ((step.rows === undefined) === (step.fraction === undefined))
          refuse(at, 'give either rows or fraction');
        const hash = rowHash(step.seed);
        const sql =
          step.rows !== undefined
            ? `SELECT ${all} FROM ${from} AS ${ROW} ORDER BY ${hash} LIMIT ${step.rows}`
            : `SELECT ${all} FROM ${from} AS ${ROW} WHERE ${hash} < ${threshold(step.fraction!)}`;
        return { sql, columns };
      }
      case 'split': {
        const label = `CASE WHEN ${rowHash(step.seed)} < ${threshold(step.train)} THEN 'train' ELSE 'test' END`;
        if (step.keep)
          return {
            sql: `SELECT ${all} FROM ${from} AS ${ROW} WHERE ${label} = ${literal(step.keep)}`,
            columns,
          };
        const name = step.column ?? 'split';
        if (columns.includes(name)) refuse(`${at}.column`, `"${name}" is a column already`);
        return {
          sql: `SELECT ${all}, ${label} AS ${quoteIdent(name)} FROM ${from} AS ${ROW}`,
          columns: [...columns, name],
        };
      }
      case 'sort': {
        // Nulls sort as larger than any value, as they always did here (DuckDB's default puts them last).
        const keys = step.by.map(
          (key, i) =>
            `${known(columns, key.column, `${at}.by[${i}].column`)}${key.descending ? ' DESC NULLS FIRST' : ' ASC NULLS LAST'}`,
        );
        return { sql: `SELECT * FROM ${from} AS prev ORDER BY ${keys.join(', ')}`, columns };
      }
    }
  }

  async function join(step: StepOf<'join'>, from: string, columns: string[], at: string) {
    const other = await datasetColumns(step.dataset, `${at}.dataset`);
    const conditions = step.on.map(
      (pair, i) =>
        `l.${known(columns, pair.left, `${at}.on[${i}].left`)} = o.${known(other.columns, pair.right, `${at}.on[${i}].right`)}`,
    );
    const keys = new Set(step.on.map((pair) => pair.right));
    const kept = step.columns ?? other.columns.filter((c) => !keys.has(c));
    const suffix = step.suffix ?? '_right';
    const taken = new Set(columns);
    const out = [...columns];
    const items = columns.map((c) => `l.${quoteIdent(c)}`);
    kept.forEach((column, i) => {
      known(other.columns, column, `${at}.columns[${i}]`);
      let name = column;
      while (taken.has(name)) name = `${name}${suffix}`.slice(0, 63);
      taken.add(name);
      out.push(name);
      items.push(`o.${quoteIdent(column)} AS ${quoteIdent(name)}`);
    });
    const how = { inner: 'JOIN', left: 'LEFT JOIN', right: 'RIGHT JOIN', full: 'FULL JOIN' }[
      step.how ?? 'inner'
    ];
    return {
      sql: `SELECT ${items.join(', ')} FROM ${from} AS l ${how} ${other.name} AS o ON ${conditions.join(' AND ')}`,
      columns: out,
    };
  }

  async function pivot(step: StepOf<'pivot'>, from: string, columns: string[], at: string) {
    const index = step.index.map((c, i) => known(columns, c, `${at}.index[${i}]`));
    const column = known(columns, step.column, `${at}.column`);
    const value = known(columns, step.value, `${at}.value`);
    const max = step.max_columns ?? DEFAULT_PIVOT_COLUMNS;
    const values = await deps.distinctValues(
      `SELECT DISTINCT CAST(${column} AS VARCHAR) AS v FROM ${from} AS prev ORDER BY 1 LIMIT ${max + 1}`,
      max + 1,
    );
    if (values.length > max)
      refuse(`${at}.column`, `has more than ${max} distinct values (raise max_columns, up to 1000)`);
    const names = safeNames([...step.index, ...values.map((v) => v ?? 'null')]).slice(step.index.length);
    const cells = values.map((v, i) => {
      const match = v === null ? `${column} IS NULL` : `CAST(${column} AS VARCHAR) = ${literal(v)}`;
      return `${step.aggregate}(${value}) FILTER (WHERE ${match}) AS ${quoteIdent(names[i]!)}`;
    });
    const group = index.length > 0 ? ` GROUP BY ${index.join(', ')} ORDER BY ${index.join(', ')}` : '';
    return {
      sql: `SELECT ${[...index, ...cells].join(', ') || 'count(*) AS rows'} FROM ${from} AS prev${group}`,
      columns: [...step.index, ...names],
    };
  }

  return {
    /** The transform's SELECT, with every column and dataset it names checked. */
    async compile(params: Pick<TransformParams, 'dataset' | 'steps'>): Promise<string> {
      const source = await datasetColumns(params.dataset, 'params.dataset');
      let sql = `SELECT ${source.columns.map(quoteIdent).join(', ')} FROM ${source.name} AS src`;
      let columns = source.columns;
      for (const [i, step] of params.steps.entries()) {
        const next = await apply(step, `(${sql})`, columns, `params.steps[${i}]`);
        sql = next.sql;
        columns = next.columns;
      }
      // The last step is the outer SELECT, so a final sort orders the rows as they are written.
      return sql;
    },
  };
}
