import { sqlError } from '../query/sql-position.ts';
import { ALLOWED_FUNCTIONS, ALLOWED_TABLE_FUNCTIONS } from './duck-functions.ts';

/**
 * The first line of defence for user SQL: DuckDB's own parser
 * (`json_serialize_sql`) reads the text, so the guard sees exactly what
 * DuckDB would run, and the whole tree is walked against allowlists of node
 * kinds, expression classes and functions. The second line is the instance
 * the query runs in (instance-pool.ts, run-statement.ts): SELECT only, only
 * the caller's files, configuration locked.
 */

type Tree = Record<string, unknown>;

/** Parses SQL with DuckDB: the text `json_serialize_sql` returns. */
export type ParseSql = (sql: string) => Promise<string>;

/** A dataset the query reads, where it names it. */
export interface DatasetReference {
  name: string;
  /** Byte offset in the UTF-8 text, when DuckDB reports one. */
  location: number | undefined;
}

export interface GuardedSql {
  /** Every dataset reference, in the order met; CTE names are not datasets. */
  references: DatasetReference[];
  /** Distinct dataset names read, lowercase (DuckDB names are case-insensitive). */
  datasetNames: string[];
  /** The parse tree without positions: equal for queries that differ only in spacing, case of keywords or comments. */
  normalized: string;
}

/** Query shapes: a SELECT, set operations, recursive CTEs. */
const QUERY_NODES = new Set(['SELECT_NODE', 'SET_OPERATION_NODE', 'RECURSIVE_CTE_NODE', 'CTE_NODE']);
/** FROM items besides named tables and table functions, which are checked on their own. */
const TABLE_REFS = new Set(['JOIN', 'SUBQUERY', 'EXPRESSION_LIST', 'EMPTY', 'PIVOT']);
/** Result modifiers and sort orders. */
const OTHER_NODES = new Set([
  'ORDER_MODIFIER',
  'LIMIT_MODIFIER',
  'LIMIT_PERCENT_MODIFIER',
  'DISTINCT_MODIFIER',
  'ORDER_DEFAULT',
  'ASCENDING',
  'DESCENDING',
]);
const EXPRESSIONS = new Set([
  'COLUMN_REF',
  'CONSTANT',
  'CAST',
  'COMPARISON',
  'CONJUNCTION',
  'OPERATOR',
  'CASE',
  'BETWEEN',
  'FUNCTION',
  'WINDOW',
  'SUBQUERY',
  'STAR',
  'LAMBDA',
  'LAMBDA_REF',
  'COLLATE',
  'POSITIONAL_REFERENCE',
]);
/** Dataset names are SQL identifiers; anything else in FROM would be a file or URL to DuckDB. */
const DATASET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** DuckDB writes "no position" as the largest 64-bit integer. */
const NO_LOCATION = 2 ** 53;

interface Walk {
  sql: string;
  references: DatasetReference[];
}

const isTree = (value: unknown): value is Tree =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function locationOf(node: Tree): number | undefined {
  const at = node.query_location;
  return typeof at === 'number' && at >= 0 && at < NO_LOCATION ? at : undefined;
}

function refuse(w: Walk, message: string, node?: Tree): never {
  throw sqlError(w.sql, message, node ? locationOf(node) : undefined);
}

function visit(value: unknown, scope: ReadonlySet<string>, w: Walk): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, scope, w);
  } else if (isTree(value)) {
    if (typeof value.class === 'string') visitExpression(value, scope, w);
    else if (typeof value.type === 'string') visitNode(value, scope, w);
    else visitFields(value, scope, w);
  }
}

function visitFields(node: Tree, scope: ReadonlySet<string>, w: Walk, skip?: string): void {
  for (const [key, child] of Object.entries(node)) {
    // A type's details (DECIMAL width, STRUCT members, ENUM values) hold no expressions.
    if (key !== skip && key !== 'type_info') visit(child, scope, w);
  }
}

function visitNode(node: Tree, scope: ReadonlySet<string>, w: Walk): void {
  const type = text(node.type);
  if (QUERY_NODES.has(type)) return visitQuery(node, scope, w);
  if (type === 'BASE_TABLE') return visitTable(node, scope, w);
  if (type === 'TABLE_FUNCTION') return visitTableFunction(node, scope, w);
  if (type === 'SHOW_REF') refuse(w, 'DESCRIBE, SHOW and SUMMARIZE are not allowed in a query', node);
  if (!TABLE_REFS.has(type) && !OTHER_NODES.has(type)) refuse(w, `${type} is not allowed in a query`, node);
  visitFields(node, scope, w);
}

/** A WITH list opens a scope: its names hide datasets of the same name inside this query. */
function visitQuery(node: Tree, scope: ReadonlySet<string>, w: Walk): void {
  const ctes = isTree(node.cte_map) && Array.isArray(node.cte_map.map) ? node.cte_map.map.filter(isTree) : [];
  const names = ctes.map((cte) => text(cte.key).toLowerCase());
  ctes.forEach((cte, index) => {
    const body = isTree(cte.value) ? cte.value : {};
    const query = isTree(body.query) && isTree(body.query.node) ? body.query.node : {};
    // A CTE sees the ones before it, and itself only when it is recursive.
    const visible = names.slice(0, query.type === 'RECURSIVE_CTE_NODE' ? index + 1 : index);
    visit(body, new Set([...scope, ...visible]), w);
  });
  if (node.type === 'RECURSIVE_CTE_NODE') names.push(text(node.cte_name).toLowerCase());
  visitFields(node, names.length > 0 ? new Set([...scope, ...names]) : scope, w, 'cte_map');
}

function visitTable(node: Tree, scope: ReadonlySet<string>, w: Walk): void {
  const name = text(node.table_name);
  const qualifier = [text(node.catalog_name), text(node.schema_name)].filter((part) => part !== '');
  if (node.at_clause) refuse(w, `${name} AT (…): time travel is not allowed`, node);
  if (qualifier.length > 0) {
    refuse(
      w,
      `${[...qualifier, name].join('.')}: datasets are read by their name alone, without a catalog or schema`,
      node,
    );
  }
  if (!DATASET_NAME.test(name)) {
    refuse(
      w,
      `${JSON.stringify(name)} is not a dataset name: a query reads datasets by name, never files or URLs`,
      node,
    );
  }
  if (!scope.has(name.toLowerCase())) w.references.push({ name, location: locationOf(node) });
  visitFields(node, scope, w);
}

function checkQualifier(node: Tree, kind: string, name: string, w: Walk): void {
  const catalog = text(node.catalog);
  const schema = text(node.schema);
  // The parser itself writes schema "main" for syntax sugar ([1, 2] is main.list_value).
  if (catalog !== '' || (schema !== '' && schema !== 'main')) {
    refuse(
      w,
      `${kind} ${[catalog, schema, name].filter(Boolean).join('.')}() must be called without a catalog or schema`,
      node,
    );
  }
}

function visitTableFunction(node: Tree, scope: ReadonlySet<string>, w: Walk): void {
  const call = isTree(node.function) ? node.function : {};
  const name = text(call.function_name);
  checkQualifier(call, 'Table function', name, w);
  if (!ALLOWED_TABLE_FUNCTIONS.has(name.toLowerCase())) {
    refuse(
      w,
      `Table function ${name}() is not allowed in a query; only ${[...ALLOWED_TABLE_FUNCTIONS].join(', ')} are`,
      node,
    );
  }
  visitFields(call, scope, w);
  visitFields(node, scope, w, 'function');
}

function visitExpression(node: Tree, scope: ReadonlySet<string>, w: Walk): void {
  const kind = text(node.class);
  if (kind === 'PARAMETER')
    refuse(w, 'Query parameters ($1, ?) are not supported; write the values in the SQL', node);
  if (!EXPRESSIONS.has(kind)) refuse(w, `${kind} expressions are not allowed in a query`, node);
  if (kind === 'FUNCTION' || kind === 'WINDOW') {
    const name = text(node.function_name);
    checkQualifier(node, 'Function', name, w);
    if (node.export_state === true) refuse(w, `${name}(…) EXPORT_STATE is not allowed`, node);
    if (!ALLOWED_FUNCTIONS.has(name.toLowerCase()))
      refuse(w, `Function ${name}() is not allowed in a query`, node);
  }
  visitFields(node, scope, w);
}

/**
 * The keyword a statement starts with, past spaces and comments (`DELETE`, `SET`, …): it names
 * what was refused. A plain scan, linear in the text (user SQL is up to 100 kB).
 */
function leadingKeyword(sql: string): string | undefined {
  let at = 0;
  for (;;) {
    const comment = sql.startsWith('--', at) ? '\n' : sql.startsWith('/*', at) ? '*/' : undefined;
    if (comment) {
      const end = sql.indexOf(comment, at + 2);
      // An unclosed comment: nothing follows it.
      if (end < 0) return undefined;
      at = end + comment.length;
    } else if (/\s/.test(sql.charAt(at))) at += 1;
    else break;
  }
  const word = /^[A-Za-z]+/.exec(sql.slice(at, at + 32))?.[0]?.toUpperCase();
  // A WITH list can lead any statement; the kind is further on.
  return word === 'WITH' ? undefined : word;
}

function parseError(sql: string, tree: Tree): never {
  const message = text(tree.error_message);
  if (tree.error_type === 'parser') {
    const position = Number(tree.position);
    throw sqlError(sql, `SQL syntax error: ${message}`, Number.isInteger(position) ? position : undefined);
  }
  if (/only select/i.test(message)) {
    const keyword = leadingKeyword(sql);
    throw sqlError(
      sql,
      keyword
        ? `Only a SELECT query is allowed: ${keyword} statements are not allowed, nor any that writes, changes settings, attaches, copies, loads or calls anything`
        : 'Only a SELECT query is allowed: no statement may write, change settings, attach, copy, load or call anything',
    );
  }
  throw sqlError(sql, `The SQL could not be read: ${message}`);
}

/** Parses `sql` and refuses anything but one allowed SELECT; returns the datasets it reads. */
export async function guardSql(sql: string, parse: ParseSql): Promise<GuardedSql> {
  const w: Walk = { sql, references: [] };
  const tree = JSON.parse(await parse(sql)) as Tree;
  if (tree.error === true) parseError(sql, tree);
  const statements = Array.isArray(tree.statements) ? tree.statements.filter(isTree) : [];
  if (statements.length === 0) refuse(w, 'The SQL contains no statement');
  if (statements.length > 1) refuse(w, `Send exactly one statement; this SQL has ${statements.length}`);
  const root = statements[0]?.node;
  if (!isTree(root) || !QUERY_NODES.has(text(root.type))) refuse(w, 'Only a SELECT query is allowed');
  try {
    visit(root, new Set(), w);
  } catch (error) {
    if (error instanceof RangeError) refuse(w, 'The query is nested too deeply');
    throw error;
  }
  const names = [...new Set(w.references.map((reference) => reference.name.toLowerCase()))];
  return {
    references: w.references,
    datasetNames: names,
    normalized: JSON.stringify(statements[0], (key, value: unknown) =>
      key === 'query_location' ? undefined : value,
    ),
  };
}

/**
 * guardSql remembered by SQL text: dashboards send the same SQL again and
 * again. Only accepted SQL is kept, and the memory is bounded by bytes (the
 * text and the normalized tree, two bytes a character), oldest first out.
 */
export function memoizedGuard(parse: ParseSql, maxBytes: number): (sql: string) => Promise<GuardedSql> {
  const known = new Map<string, { guarded: GuardedSql; bytes: number }>();
  let total = 0;
  return async (sql) => {
    const hit = known.get(sql);
    if (hit) {
      known.delete(sql);
      known.set(sql, hit);
      return hit.guarded;
    }
    const guarded = await guardSql(sql, parse);
    const bytes = 2 * (sql.length + guarded.normalized.length) + 64 * (guarded.references.length + 1);
    if (bytes > maxBytes) return guarded;
    for (const [key, entry] of known) {
      if (total + bytes <= maxBytes) break;
      known.delete(key);
      total -= entry.bytes;
    }
    known.set(sql, { guarded, bytes });
    total += bytes;
    return guarded;
  };
}
