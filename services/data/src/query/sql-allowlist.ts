/**
 * What user SQL may contain. Everything here is an allowlist: a construct,
 * function or type that is not listed is refused, so a PostgreSQL upgrade that
 * adds something new cannot widen what callers can do.
 */

/** Parse-tree nodes a plain SELECT is made of. Statements other than SELECT, and anything exotic, are absent. */
export const ALLOWED_NODES: ReadonlySet<string> = new Set([
  'SelectStmt',
  'ResTarget',
  'ColumnRef',
  'A_Star',
  'A_Const',
  'A_Expr',
  'A_Indirection',
  'A_Indices',
  'A_ArrayExpr',
  'BoolExpr',
  'NullTest',
  'BooleanTest',
  'CaseExpr',
  'CaseWhen',
  'CoalesceExpr',
  'MinMaxExpr',
  'RowExpr',
  'SubLink',
  'FuncCall',
  'NamedArgExpr',
  'TypeCast',
  'CollateClause',
  'SortBy',
  'WindowDef',
  'RangeVar',
  'RangeSubselect',
  'RangeFunction',
  'RangeTableSample',
  'JoinExpr',
  'CommonTableExpr',
  'CTESearchClause',
  'CTECycleClause',
  'GroupingSet',
  'GroupingFunc',
  'SQLValueFunction',
  'ColumnDef',
  'List',
  'String',
  'Integer',
  'Float',
  'Boolean',
  'BitString',
]);

/** Statement kinds named in refusals, so the caller reads "DROP", not "DropStmt". */
export const STATEMENT_NAMES: Readonly<Record<string, string>> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  CopyStmt: 'COPY',
  DropStmt: 'DROP',
  TruncateStmt: 'TRUNCATE',
  CreateStmt: 'CREATE TABLE',
  CreateTableAsStmt: 'CREATE TABLE AS',
  AlterTableStmt: 'ALTER TABLE',
  GrantStmt: 'GRANT',
  GrantRoleStmt: 'GRANT',
  VariableSetStmt: 'SET',
  VariableShowStmt: 'SHOW',
  TransactionStmt: 'transaction control',
  ExplainStmt: 'EXPLAIN',
  CallStmt: 'CALL',
  DoStmt: 'DO',
  LockStmt: 'LOCK',
  VacuumStmt: 'VACUUM',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
  DeclareCursorStmt: 'DECLARE',
  FetchStmt: 'FETCH',
  ListenStmt: 'LISTEN',
  NotifyStmt: 'NOTIFY',
  CreateFunctionStmt: 'CREATE FUNCTION',
  ViewStmt: 'CREATE VIEW',
};

/** Ordinary functions: they compute from their arguments and touch nothing outside the query. */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  ...['count', 'sum', 'avg', 'min', 'max', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop'],
  ...['var_samp', 'percentile_cont', 'percentile_disc', 'mode', 'string_agg', 'array_agg', 'bool_and'],
  ...['bool_or', 'every', 'corr', 'covar_pop', 'covar_samp', 'json_agg', 'jsonb_agg'],
  // mathematics
  ...['abs', 'round', 'ceil', 'ceiling', 'floor', 'trunc', 'ln', 'log', 'log10', 'exp', 'power', 'sqrt'],
  ...['cbrt', 'sign', 'mod', 'div', 'width_bucket', 'greatest', 'least', 'coalesce', 'nullif'],
  // strings
  ...['lower', 'upper', 'initcap', 'length', 'char_length', 'octet_length', 'substr', 'substring', 'trim'],
  ...['btrim', 'ltrim', 'rtrim', 'replace', 'concat', 'concat_ws', 'left', 'right', 'split_part'],
  ...['position', 'strpos', 'starts_with', 'regexp_replace', 'regexp_match', 'md5', 'reverse'],
  // dates and times
  ...['date_trunc', 'date_part', 'extract', 'now', 'age', 'to_char', 'to_date', 'to_timestamp'],
  ...['to_number', 'make_date', 'make_timestamp', 'date_bin', 'timezone'],
  // window functions
  ...['row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'lag', 'lead', 'first_value'],
  ...['last_value', 'nth_value', 'ntile'],
  // JSON
  ...['jsonb_extract_path_text', 'json_extract_path_text', 'jsonb_extract_path', 'json_build_object'],
  ...['jsonb_build_object', 'jsonb_array_length', 'json_array_length', 'jsonb_typeof', 'to_jsonb'],
  // rows
  ...['generate_series', 'unnest'],
]);

/**
 * SQL syntax that PostgreSQL's parser turns into `pg_catalog.` calls
 * (EXTRACT(… FROM …), SUBSTRING(… FROM …), TRIM(BOTH …), AT TIME ZONE, SIMILAR TO …):
 * the only schema-qualified calls accepted, because the caller did not write the schema.
 */
export const SYNTAX_FUNCTIONS: ReadonlySet<string> = new Set([
  'extract',
  'substring',
  'position',
  'btrim',
  'ltrim',
  'rtrim',
  'overlay',
  'timezone',
  'similar_to_escape',
  'normalize',
  'is_normalized',
]);

/** Types a value may be cast to; casts to reg* types would look up the system catalogs. */
export const ALLOWED_TYPES: ReadonlySet<string> = new Set([
  ...[
    'int2',
    'int4',
    'int8',
    'smallint',
    'int',
    'integer',
    'bigint',
    'numeric',
    'decimal',
    'float4',
    'float8',
  ],
  ...['real', 'float', 'bool', 'boolean', 'text', 'varchar', 'bpchar', 'char', 'date', 'time', 'timetz'],
  ...['timestamp', 'timestamptz', 'interval', 'json', 'jsonb', 'uuid'],
]);

/** CURRENT_DATE and friends; CURRENT_USER, SESSION_USER and CURRENT_SCHEMA describe the server, not the data. */
export const ALLOWED_VALUE_FUNCTIONS: ReadonlySet<string> = new Set([
  'SVFOP_CURRENT_DATE',
  'SVFOP_CURRENT_TIME',
  'SVFOP_CURRENT_TIME_N',
  'SVFOP_CURRENT_TIMESTAMP',
  'SVFOP_CURRENT_TIMESTAMP_N',
  'SVFOP_LOCALTIME',
  'SVFOP_LOCALTIME_N',
  'SVFOP_LOCALTIMESTAMP',
  'SVFOP_LOCALTIMESTAMP_N',
]);

export const ALLOWED_SAMPLING_METHODS: ReadonlySet<string> = new Set(['system', 'bernoulli']);
