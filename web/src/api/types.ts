/** The shapes the UI reads, as the services' OpenAPI documents describe them. */
export type Role = 'admin' | 'editor' | 'viewer';
export type Visibility = 'private' | 'shared';
export type ColumnType = 'integer' | 'float' | 'boolean' | 'date' | 'timestamp' | 'text' | 'json';

export interface Me {
  id: string;
  email: string;
  role: Role;
  via: 'user' | 'api_key';
}

export interface DatasetColumn {
  name: string;
  original_name: string;
  type: ColumnType;
}

export interface Dataset {
  id: string;
  name: string;
  description: string;
  owner_id: string;
  visibility: Visibility;
  columns: DatasetColumn[];
  row_count: number;
  bytes: number;
  version: number;
  source_format: string;
  created_at: string;
  updated_at: string;
}

export interface UploadResult {
  dataset: Dataset;
  rows_written: number;
  rejects: {
    count: number;
    first: { line: number; column?: string; value?: string; expected?: string; message: string }[];
    download: string | null;
  };
}

export interface RowsPage {
  columns: DatasetColumn[];
  rows: unknown[][];
  next: string | null;
}

export interface ColumnProfile {
  name: string;
  original_name: string;
  type: string;
  count: number;
  nulls: number;
  distinct: number;
  distinct_approximate: boolean;
  min: unknown;
  max: unknown;
  mean: number | null;
  stddev: number | null;
  quantiles: { p25: number | null; p50: number | null; p75: number | null } | null;
  top_values: { value: unknown; count: number }[] | null;
  histogram: { lower: number | string; upper: number | string; count: number }[] | null;
}

export interface Profile {
  dataset_id: string;
  version: number;
  computed_at: string;
  row_count: number;
  sampled: boolean;
  sample_rows: number | null;
  columns: ColumnProfile[];
}

export interface DatasetVersion {
  version: number;
  mode: string;
  rows_written: number;
  rows_rejected: number;
  created_by: string;
  created_at: string;
}

export interface QueryResult {
  columns: { name: string; type: ColumnType }[];
  rows: unknown[][];
  row_count: number;
  truncated: boolean;
}

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'dead';

export interface Job {
  id: string;
  type: string;
  queue: string;
  owner_id: string;
  state: JobState;
  priority: number;
  progress: number;
  progress_message: string | null;
  attempts: number;
  max_attempts: number;
  params: Record<string, unknown>;
  result: unknown;
  error: { message: string; kind: string; attempt: number } | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

export interface JobLog {
  at: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export interface User {
  id: string;
  email: string;
  role: Role;
  disabled: boolean;
  locked_until: string | null;
  created_at: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  role: Role;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  created_at: string;
}

export interface ServiceHealth {
  name: string;
  prefix: string;
  healthy: boolean;
  instances: { url: string; source: string; state: string; last_checked_at?: string; last_error?: string }[];
}

export interface AuditEvent {
  id: number;
  at: string;
  kind: 'request' | 'security';
  action: string;
  user_id: string | null;
  ip: string | null;
  method: string | null;
  path: string | null;
  status: number | null;
  latency_ms: number | null;
  request_id: string | null;
  detail: Record<string, unknown> | null;
}

export interface ChartSummary {
  id: string;
  owner_id: string;
  visibility: Visibility;
  title: string;
  description: string;
  created_at: string;
  updated_at: string;
}

export interface Chart extends ChartSummary {
  spec: Record<string, unknown>;
}

export interface FieldSpec {
  name: string;
  type: 'number' | 'string' | 'tensor';
  dtype?: string;
  shape?: (number | null)[];
  nullable: boolean;
  categories?: string[];
}

export interface ModelVersion {
  model_id: string;
  version: number;
  stage: 'staging' | 'production' | 'archived';
  kind: 'onnx' | 'tabular';
  algorithm: string;
  task: string;
  input_schema: { fields: FieldSpec[] };
  output_schema: { fields: FieldSpec[] };
  metrics: Record<string, unknown>;
  lineage: Record<string, unknown>;
  artifact_bytes: number;
  created_at: string;
}

export interface ModelSummary {
  id: string;
  name: string;
  description: string;
  owner_id: string;
  visibility: Visibility;
  latest_version: number | null;
  production_version: number | null;
  created_at: string;
  updated_at: string;
}

export interface Model extends ModelSummary {
  versions: ModelVersion[];
}
