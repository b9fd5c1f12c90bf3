import { createBoundedLru } from '@datalab/platform';
import { hasSqlDetails, parse } from 'libpg-query';
import {
  ALLOWED_FUNCTIONS,
  ALLOWED_NODES,
  ALLOWED_SAMPLING_METHODS,
  ALLOWED_TYPES,
  ALLOWED_VALUE_FUNCTIONS,
  STATEMENT_NAMES,
  SYNTAX_FUNCTIONS,
} from './sql-allowlist.ts';
import { sqlError } from './sql-position.ts';

/**
 * The first line of defence for `{ sql }` queries: PostgreSQL's own parser
 * (libpg-query) reads the text, and the whole tree is walked — every nested
 * object, so sub-selects, CTEs, lateral joins and window clauses are all seen —
 * against allowlists of node kinds, functions and types. The database's
 * read-only transaction and reader role (see executor.ts) are the second line.
 */

type AstObject = Record<string, unknown>;

/** A table the query reads that is not one of its own CTEs. */
export interface TableReference {
  /** Set when the caller wrote `schema.table`. */
  schema: string | undefined;
  name: string;
  /** Byte offset of the name in the UTF-8 text. */
  location: number;
  hasAlias: boolean;
}

export interface InspectedSql {
  tree: AstObject;
  /** In the order they were met; CTE references are left out. */
  references: TableReference[];
}

export interface GuardedSql {
  references: TableReference[];
  /** Distinct dataset names read, as written. */
  datasetNames: string[];
  /** The parse tree without positions: equal for queries that differ only in spacing, case or comments. */
  normalized: string;
}

interface Walk {
  sql: string;
  references: TableReference[];
}

const isObject = (value: unknown): value is AstObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const location = (node: AstObject): number | undefined =>
  typeof node.location === 'number' ? node.location : undefined;
const strings = (list: unknown): string[] =>
  Array.isArray(list)
    ? list.map((item) => String((item as { String?: { sval?: string } }).String?.sval ?? ''))
    : [];
/** Parse-tree nodes are objects with one capitalised key (`{ "SelectStmt": {…} }`); fields are lower case. */
const isNodeTag = (key: string): boolean => /^[A-Z]/.test(key);

function refuse(w: Walk, message: string, at?: number): never {
  throw sqlError(w.sql, message, at);
}

function walk(value: unknown, scope: ReadonlySet<string>, w: Walk): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, scope, w);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (isNodeTag(key) && isObject(child)) visitNode(key, child, scope, w);
    else walkField(key, child, scope, w);
  }
}

function walkField(key: string, child: unknown, scope: ReadonlySet<string>, w: Walk): void {
  // TypeName is embedded without its node tag (casts, column definitions).
  if (key === 'typeName' && isObject(child)) checkType(child, w);
  walk(child, scope, w);
}

function walkFields(node: AstObject, scope: ReadonlySet<string>, w: Walk): void {
  for (const [key, child] of Object.entries(node)) walkField(key, child, scope, w);
}

function visitNode(tag: string, node: AstObject, scope: ReadonlySet<string>, w: Walk): void {
  if (!ALLOWED_NODES.has(tag)) {
    const statement = STATEMENT_NAMES[tag];
    refuse(
      w,
      statement ? `${statement} is not allowed: a query is one SELECT` : `${tag} is not allowed in a query`,
      location(node),
    );
  }
  if (tag === 'SelectStmt') return visitSelect(node, scope, w);
  if (tag === 'RangeVar') return visitRangeVar(node, scope, w);
  if (tag === 'FuncCall') checkFunction(node, w);
  if (tag === 'SQLValueFunction' && !ALLOWED_VALUE_FUNCTIONS.has(String(node.op))) {
    refuse(w, `${String(node.op).replace('SVFOP_', '')} is not allowed in a query`, location(node));
  }
  if (tag === 'RangeTableSample') {
    const method = strings(node.method).join('.');
    if (!ALLOWED_SAMPLING_METHODS.has(method))
      refuse(w, `TABLESAMPLE ${method} is not allowed`, location(node));
  }
  walkFields(node, scope, w);
}

/** A WITH list opens a scope: its names hide datasets of the same name, but only where SQL says they are visible. */
function visitSelect(node: AstObject, scope: ReadonlySet<string>, w: Walk): void {
  if (node.intoClause) refuse(w, 'SELECT INTO creates a table and is not allowed');
  if (node.lockingClause) refuse(w, 'FOR UPDATE / FOR SHARE lock rows and are not allowed');
  // The two sides of UNION / INTERSECT / EXCEPT are SELECTs embedded without their node tag.
  const { withClause, larg, rarg, ...rest } = node;
  let inner = scope;
  if (isObject(withClause)) {
    const ctes = Array.isArray(withClause.ctes) ? withClause.ctes.filter(isObject) : [];
    const names = ctes.map((cte) => {
      const name = (cte.CommonTableExpr as AstObject | undefined)?.ctename;
      return typeof name === 'string' ? name : '';
    });
    ctes.forEach((wrapped, index) => {
      const cte = wrapped.CommonTableExpr;
      if (!isObject(cte)) return walk(wrapped, scope, w);
      // Without RECURSIVE a CTE sees only the ones before it; with it, all of them, itself included.
      const visible = withClause.recursive ? names : names.slice(0, index);
      visitCte(cte, new Set([...scope, ...visible]), w);
    });
    inner = new Set([...scope, ...names]);
  }
  for (const side of [larg, rarg]) if (isObject(side)) visitSelect(side, inner, w);
  walkFields(rest, inner, w);
}

function visitCte(cte: AstObject, scope: ReadonlySet<string>, w: Walk): void {
  const query = isObject(cte.ctequery) ? cte.ctequery : {};
  const [tag] = Object.keys(query);
  if (tag && tag !== 'SelectStmt') {
    const statement = STATEMENT_NAMES[tag] ?? tag;
    refuse(w, `A WITH query may not change data: ${statement} is not allowed`, location(cte));
  }
  walkFields(cte, scope, w);
}

function visitRangeVar(node: AstObject, scope: ReadonlySet<string>, w: Walk): void {
  const name = String(node.relname);
  const schema = [node.catalogname, node.schemaname].filter((part) => typeof part === 'string').join('.');
  if (!schema && scope.has(name)) return;
  w.references.push({
    schema: schema || undefined,
    name,
    location: location(node) ?? -1,
    hasAlias: !!node.alias,
  });
}

function checkFunction(node: AstObject, w: Walk): void {
  const names = strings(node.funcname);
  const name = names.at(-1) ?? '';
  if (names.length > 1) {
    const fromSyntax = node.funcformat === 'COERCE_SQL_SYNTAX' || name === 'similar_to_escape';
    if (names.length === 2 && names[0] === 'pg_catalog' && SYNTAX_FUNCTIONS.has(name) && fromSyntax) return;
    refuse(w, `Schema-qualified function ${names.join('.')}() is not allowed`, location(node));
  }
  if (!ALLOWED_FUNCTIONS.has(name)) refuse(w, `Function ${name}() is not allowed in a query`, location(node));
}

function checkType(typeName: AstObject, w: Walk): void {
  const names = strings(typeName.names);
  const name = names.at(-1) ?? '';
  const schemaOk = names.length === 1 || (names.length === 2 && names[0] === 'pg_catalog');
  if (!schemaOk || !ALLOWED_TYPES.has(name)) {
    refuse(w, `Type ${names.join('.')} is not allowed in a query`, location(typeName));
  }
}

async function parseSql(sql: string): Promise<AstObject> {
  try {
    return (await parse(sql)) as unknown as AstObject;
  } catch (error) {
    if (hasSqlDetails(error)) {
      throw sqlError(
        sql,
        `SQL syntax error: ${error.sqlDetails?.message ?? error.message}`,
        error.sqlDetails?.cursorPosition,
      );
    }
    throw sqlError(
      sql,
      `The SQL could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Parses `sql` and refuses anything but one plain SELECT; returns the tables it reads. */
export async function inspectSelect(sql: string): Promise<InspectedSql> {
  const tree = await parseSql(sql);
  const stmts = Array.isArray(tree.stmts) ? tree.stmts.filter(isObject) : [];
  const w: Walk = { sql, references: [] };
  if (stmts.length === 0) refuse(w, 'The SQL contains no statement');
  if (stmts.length > 1) {
    const second = stmts[1]?.stmt_location;
    refuse(
      w,
      `Send exactly one statement; this SQL has ${stmts.length}`,
      typeof second === 'number' ? second : undefined,
    );
  }
  const statement = isObject(stmts[0]?.stmt) ? stmts[0].stmt : {};
  const [tag = 'nothing'] = Object.keys(statement);
  if (tag !== 'SelectStmt')
    refuse(w, `${STATEMENT_NAMES[tag] ?? tag} is not allowed: a query is one SELECT`, 0);
  try {
    walk(statement, new Set(), w);
  } catch (error) {
    if (error instanceof RangeError) refuse(w, 'The query is nested too deeply');
    throw error;
  }
  return { tree, references: w.references };
}

const POSITION_KEYS = new Set(['location', 'stmt_location', 'stmt_len']);

/** Refuses SQL that is not one safe SELECT over unqualified dataset names. */
export async function guardSql(sql: string): Promise<GuardedSql> {
  const { tree, references } = await inspectSelect(sql);
  for (const reference of references) {
    if (reference.schema) {
      throw sqlError(
        sql,
        `${reference.schema}.${reference.name}: tables are read by dataset name, without a schema`,
        reference.location,
      );
    }
  }
  return {
    references,
    datasetNames: [...new Set(references.map((reference) => reference.name))],
    normalized: JSON.stringify(tree, (key, value: unknown) => (POSITION_KEYS.has(key) ? undefined : value)),
  };
}

/** Estimated memory of one remembered answer beside its key (the SQL): the parse tree text, the references. */
function guardedBytes(guarded: GuardedSql): number {
  return guarded.normalized.length * 2 + guarded.references.length * 160;
}

/**
 * guardSql, remembered by SQL text: the same dashboards send the same SQL
 * again and again, and parsing and walking it is a good part of a cached
 * answer's cost. Only accepted SQL is kept, least recently used first out
 * once the estimate passes `maxBytes` (a parse tree is many times its SQL).
 */
export function memoizedGuard(maxBytes: number): (sql: string) => Promise<GuardedSql> {
  const known = createBoundedLru<GuardedSql>({ maxBytes, sizeOf: guardedBytes });
  return async (sql) => {
    const hit = known.get(sql);
    if (hit) return hit;
    const guarded = await guardSql(sql);
    known.set(sql, guarded, Infinity);
    return guarded;
  };
}
