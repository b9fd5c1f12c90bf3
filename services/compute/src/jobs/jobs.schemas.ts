import { Type, type Static, type TSchema } from 'typebox';

export const JobStateSchema = Type.Union(
  [
    Type.Literal('queued'),
    Type.Literal('running'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
    Type.Literal('cancelled'),
    Type.Literal('dead'),
  ],
  {
    description:
      '`queued` (waiting, or waiting to retry), `running`, `succeeded`, `failed` (a failure retrying cannot fix), `cancelled`, `dead` (failed on every attempt; retryable).',
  },
);
export type JobState = Static<typeof JobStateSchema>;

/** A job in one of these states will not change again unless someone retries it. */
export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled', 'dead'];

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Timestamp = Type.String({ format: 'date-time' });

export const JobError = Type.Object({
  message: Type.String(),
  kind: Type.String({ description: '`error`, `timeout`, or `lost` (its worker stopped).' }),
  attempt: Type.Integer(),
});

export const Job = Type.Object({
  id: Type.String({ format: 'uuid' }),
  type: Type.String(),
  queue: Type.String(),
  owner_id: Type.String({ format: 'uuid' }),
  state: JobStateSchema,
  priority: Type.Integer(),
  progress: Type.Integer({ minimum: 0, maximum: 100 }),
  progress_message: Nullable(Type.String()),
  attempts: Type.Integer({ description: 'Attempts started so far.' }),
  max_attempts: Type.Integer(),
  params: Type.Record(Type.String(), Type.Unknown()),
  result: Type.Unknown({ description: 'What the job produced (JSON), once it succeeded; null before.' }),
  error: Nullable(JobError),
  worker_id: Nullable(Type.String()),
  run_after: Timestamp,
  created_at: Timestamp,
  started_at: Nullable(Timestamp),
  finished_at: Nullable(Timestamp),
  updated_at: Timestamp,
});
export type Job = Static<typeof Job>;

export const CreateJobBody = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'A job type (`GET /api/v1/compute/job-types`).',
    }),
    params: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: 'Checked against the type’s own schema.' }),
    ),
    priority: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100, description: 'Higher runs first (default 50).' }),
    ),
  },
  { additionalProperties: false },
);
export type CreateJobBody = Static<typeof CreateJobBody>;

export const MAX_BATCH = 1000;

export const CreateJobsBody = Type.Object(
  {
    jobs: Type.Array(CreateJobBody, {
      minItems: 1,
      maxItems: MAX_BATCH,
      description: `Up to ${MAX_BATCH} jobs, written together: all are queued, or (one refused) none.`,
    }),
  },
  { additionalProperties: false },
);
export type CreateJobsBody = Static<typeof CreateJobsBody>;

export const JobBatch = Type.Object({ jobs: Type.Array(Job, { description: 'In the order submitted.' }) });
export type JobBatch = Static<typeof JobBatch>;

export const JobIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ListJobsQuery = Type.Object({
  state: Type.Optional(JobStateSchema),
  type: Type.Optional(Type.String({ maxLength: 100 })),
  owner: Type.Optional(Type.Literal('me', { description: '`me`: only my jobs (for admins, who see all).' })),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});
export type ListJobsQuery = Static<typeof ListJobsQuery>;

export const JobList = Type.Object({
  jobs: Type.Array(Job),
  total: Type.Integer({ description: 'How many jobs match, across all pages.' }),
});
export type JobList = Static<typeof JobList>;

export const LogsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});
export type LogsQuery = Static<typeof LogsQuery>;

export const JobLogs = Type.Object({
  logs: Type.Array(
    Type.Object({
      at: Timestamp,
      level: Type.Union([
        Type.Literal('debug'),
        Type.Literal('info'),
        Type.Literal('warn'),
        Type.Literal('error'),
      ]),
      message: Type.String(),
    }),
  ),
});
export type JobLogs = Static<typeof JobLogs>;

export const JobTypeList = Type.Object({
  types: Type.Array(
    Type.Object({
      type: Type.String(),
      queue: Type.String(),
      timeout_ms: Type.Integer(),
      max_attempts: Type.Integer(),
      params: Type.Unknown({ description: 'JSON Schema of the params.' }),
    }),
  ),
});
export type JobTypeList = Static<typeof JobTypeList>;
