import { principalOf, type App } from '@datalab/platform';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ChangePasswordBody, LoginBody, Me, RefreshBody, Tokens } from './sessions.schemas.ts';
import type { SessionsService } from './sessions.service.ts';

const tags = ['auth'];
const caller = (request: FastifyRequest) => ({ ip: request.ip, requestId: request.id });

export function sessionsRoutes(app: App, sessions: SessionsService): void {
  app.post(
    '/api/v1/auth/login',
    {
      schema: {
        tags,
        summary: 'Log in with email and password.',
        body: LoginBody,
        response: { 200: Tokens },
      },
    },
    (request) => sessions.login(request.body.email, request.body.password, caller(request)),
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      schema: {
        tags,
        summary: 'Trade a refresh token for new tokens (the old one is spent).',
        body: RefreshBody,
        response: { 200: Tokens },
      },
    },
    (request) => sessions.refresh(request.body.refresh_token, caller(request)),
  );

  app.post(
    '/api/v1/auth/logout',
    {
      schema: {
        tags,
        summary: 'End the session of a refresh token.',
        body: RefreshBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await sessions.logout(request.body.refresh_token, caller(request));
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/api/v1/auth/me',
    { schema: { tags, summary: 'Who am I.', response: { 200: Me } } },
    async (request) => {
      const principal = principalOf(request);
      return {
        id: principal.userId,
        email: principal.email,
        role: principal.role,
        via: principal.kind,
        ...(principal.apiKeyId ? { api_key_id: principal.apiKeyId } : {}),
      };
    },
  );

  app.post(
    '/api/v1/auth/password',
    {
      schema: {
        tags,
        summary: 'Change my password; every session and access token of mine ends, this one too.',
        body: ChangePasswordBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await sessions.changePassword(
        principalOf(request),
        request.body.current_password,
        request.body.new_password,
        caller(request),
      );
      return reply.code(204).send(null);
    },
  );
}
