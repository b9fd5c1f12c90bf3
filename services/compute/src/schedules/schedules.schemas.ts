import { Type, type Static, type TSchema } from 'typebox';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

export const VisibilitySchema = Type.Union([Type.Literal('private'), Type.Literal('shared')], {
  description: '`private` (the owner and admins) or `shared` (every signed-in user may read it).',
});

export const JobTemplate = Type.Object(
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
  { additionalProperties: false, description: 'The job each tick submits, as `POST /jobs` would.' },
);
export type JobTemplate = Static<typeof JobTemplate>;

export const CreateScheduleBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    cron: Type.String({
      minLength: 1,
      maxLength: 200,
      description:
        'Cron expression: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; `@daily` and the like too.',
    }),
    timezone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'IANA timezone the expression is read in (default UTC).',
      }),
    ),
    job: JobTemplate,
    visibility: Type.Optional(VisibilitySchema),
    paused: Type.Optional(Type.Boolean({ description: 'Create it paused (default false).' })),
  },
  { additionalProperties: false },
);
export type CreateScheduleBody = Static<typeof CreateScheduleBody>;

export const Schedule = Type.Object({
  id: Type.String({ format: 'uuid' }),
  owner_id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  cron: Type.String(),
  timezone: Type.String(),
  job: Type.Object({
    type: Type.String(),
    params: Type.Record(Type.String(), Type.Unknown()),
    priority: Type.Integer(),
  }),
  visibility: VisibilitySchema,
  paused: Type.Boolean(),
  paused_reason: Nullable(
    Type.String({
      description:
        'Why the schedule paused itself: its owner was disabled or made a viewer, the API key it was made with was revoked, or its expression fires no more. Null when a person paused it, or it runs.',
    }),
  ),
  next_run_at: Nullable(Timestamp),
  last_run_at: Nullable(Timestamp),
  last_job_id: Nullable(Type.String({ format: 'uuid' })),
  last_skip_reason: Nullable(
    Type.String({
      description:
        'Why the last tick submitted no job (its owner at their job quota, its job no longer fitting its type); null when it did.',
    }),
  ),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type Schedule = Static<typeof Schedule>;

export const ScheduleIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ListSchedulesQuery = Type.Object({
  owner: Type.Optional(
    Type.Literal('me', { description: '`me`: only my schedules, not those shared with me.' }),
  ),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});
export type ListSchedulesQuery = Static<typeof ListSchedulesQuery>;

export const ScheduleList = Type.Object({
  schedules: Type.Array(Schedule),
  total: Type.Integer({ description: 'How many schedules match, across all pages.' }),
});
export type ScheduleList = Static<typeof ScheduleList>;
