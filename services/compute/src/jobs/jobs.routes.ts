import { Type } from 'typebox';
import { principalOf, type App } from '@datalab/platform';
import type { JobStreams } from './jobs.events.ts';
import {
  CreateJobBody,
  CreateJobsBody,
  Job,
  JobBatch,
  JobIdParams,
  JobList,
  JobLogs,
  JobTypeList,
  ListJobsQuery,
  LogsQuery,
} from './jobs.schemas.ts';
import type { JobsService } from './jobs.service.ts';

const tags = ['jobs'];
const JOBS = '/api/v1/compute/jobs';

export function jobsRoutes(app: App, jobs: JobsService, streams: JobStreams): void {
  app.get(
    '/api/v1/compute/job-types',
    {
      schema: {
        tags,
        summary: 'The job types, with the JSON Schema of their params.',
        response: { 200: JobTypeList },
      },
    },
    () => jobs.types(),
  );

  app.post(
    JOBS,
    {
      schema: {
        tags,
        summary: 'Submit a job (editors and admins): queued at once, run by a worker.',
        body: CreateJobBody,
        response: { 201: Job },
      },
    },
    async (request, reply) => reply.code(201).send(await jobs.submit(principalOf(request), request.body)),
  );

  app.post(
    `${JOBS}/batch`,
    {
      schema: {
        tags,
        summary: 'Submit many jobs at once (editors and admins): all are queued, or none.',
        body: CreateJobsBody,
        response: { 201: JobBatch },
      },
    },
    async (request, reply) => reply.code(201).send(await jobs.submitMany(principalOf(request), request.body)),
  );

  app.get(
    JOBS,
    {
      schema: {
        tags,
        summary: 'My jobs (admins: everyone’s), newest first.',
        querystring: ListJobsQuery,
        response: { 200: JobList },
      },
    },
    (request) => jobs.list(principalOf(request), request.query),
  );

  app.get(
    `${JOBS}/:id`,
    {
      schema: {
        tags,
        summary: 'One job: state, progress, attempts, result or error.',
        params: JobIdParams,
        response: { 200: Job },
      },
    },
    (request) => jobs.get(principalOf(request), request.params.id),
  );

  app.get(
    `${JOBS}/:id/logs`,
    {
      schema: {
        tags,
        summary: 'The job’s log lines, oldest first.',
        params: JobIdParams,
        querystring: LogsQuery,
        response: { 200: JobLogs },
      },
    },
    (request) => jobs.logs(principalOf(request), request.params.id, request.query),
  );

  app.get(
    `${JOBS}/:id/events`,
    {
      schema: {
        tags,
        summary:
          'Server-Sent Events: `state` and `progress` messages with the job’s status as it changes; ends when the job does.',
        params: JobIdParams,
      },
    },
    (request, reply) => streams.stream(principalOf(request), request.params.id, request, reply),
  );

  app.post(
    `${JOBS}/:id/cancel`,
    {
      schema: {
        tags,
        summary: 'Cancel a queued or running job; a running one is aborted within seconds.',
        params: JobIdParams,
        response: { 200: Job },
      },
    },
    (request) => jobs.cancel(principalOf(request), request.params.id),
  );

  app.post(
    `${JOBS}/:id/retry`,
    {
      schema: {
        tags,
        summary: 'Run a failed, dead or cancelled job again from its first attempt.',
        params: JobIdParams,
        response: { 200: Job },
      },
    },
    (request) => jobs.retry(principalOf(request), request.params.id),
  );

  app.delete(
    `${JOBS}/:id`,
    {
      schema: {
        tags,
        summary: 'Delete a job that is not running, with its logs.',
        params: JobIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }) },
      },
    },
    async (request, reply) => {
      await jobs.delete(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
