import { Type } from 'typebox';
import { principalOf, type App } from '@datalab/platform';
import {
  CreateScheduleBody,
  ListSchedulesQuery,
  Schedule,
  ScheduleIdParams,
  ScheduleList,
} from './schedules.schemas.ts';
import type { SchedulesService } from './schedules.service.ts';

const tags = ['schedules'];
const SCHEDULES = '/api/v1/compute/schedules';

export function schedulesRoutes(app: App, schedules: SchedulesService): void {
  app.post(
    SCHEDULES,
    {
      schema: {
        tags,
        summary:
          'Create a schedule (editors and admins): each tick of the cron expression submits the job once.',
        body: CreateScheduleBody,
        response: { 201: Schedule },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await schedules.create(principalOf(request), request.body)),
  );

  app.get(
    SCHEDULES,
    {
      schema: {
        tags,
        summary: 'My schedules and those shared with me (admins: everyone’s), newest first.',
        querystring: ListSchedulesQuery,
        response: { 200: ScheduleList },
      },
    },
    (request) => schedules.list(principalOf(request), request.query),
  );

  app.get(
    `${SCHEDULES}/:id`,
    {
      schema: {
        tags,
        summary: 'One schedule: its expression, job template, next and last run.',
        params: ScheduleIdParams,
        response: { 200: Schedule },
      },
    },
    (request) => schedules.get(principalOf(request), request.params.id),
  );

  app.post(
    `${SCHEDULES}/:id/pause`,
    {
      schema: {
        tags,
        summary: 'Pause a schedule: no tick runs until it is resumed.',
        params: ScheduleIdParams,
        response: { 200: Schedule },
      },
    },
    (request) => schedules.pause(principalOf(request), request.params.id),
  );

  app.post(
    `${SCHEDULES}/:id/resume`,
    {
      schema: {
        tags,
        summary: 'Resume a paused schedule from its next tick (ticks missed while paused do not run).',
        params: ScheduleIdParams,
        response: { 200: Schedule },
      },
    },
    (request) => schedules.resume(principalOf(request), request.params.id),
  );

  app.delete(
    `${SCHEDULES}/:id`,
    {
      schema: {
        tags,
        summary: 'Delete a schedule; the jobs it started stay.',
        params: ScheduleIdParams,
        response: { 204: Type.Null({ description: 'Deleted.' }) },
      },
    },
    async (request, reply) => {
      await schedules.delete(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
