import { principalOf, type App } from '@datalab/platform';
import {
  CreateUserBody,
  ListUsersQuery,
  UpdateUserBody,
  User,
  UserIdParams,
  UserList,
} from './users.schemas.ts';
import { onlyAdmins } from '../auth/require-admin.ts';
import type { UsersService } from './users.service.ts';

const tags = ['admin'];

/** Admins only: each route checks the role itself, besides the gateway's rule for /api/v1/admin/*. */
export function usersRoutes(app: App, users: UsersService): void {
  app.get(
    '/api/v1/admin/users',
    {
      onRequest: onlyAdmins('list users'),
      schema: { tags, summary: 'List users.', querystring: ListUsersQuery, response: { 200: UserList } },
    },
    (request) => users.list(request.query.limit, request.query.offset),
  );

  app.post(
    '/api/v1/admin/users',
    {
      onRequest: onlyAdmins('create users'),
      schema: { tags, summary: 'Create a user.', body: CreateUserBody, response: { 201: User } },
    },
    async (request, reply) => {
      const context = { principal: principalOf(request), ip: request.ip, requestId: request.id };
      const user = await users.create(context, request.body.email, request.body.password, request.body.role);
      return reply.code(201).send(user);
    },
  );

  app.patch(
    '/api/v1/admin/users/:id',
    {
      onRequest: onlyAdmins('change users'),
      schema: {
        tags,
        summary: "Change a user's role, or disable / enable them.",
        params: UserIdParams,
        body: UpdateUserBody,
        response: { 200: User },
      },
    },
    (request) =>
      users.update(
        { principal: principalOf(request), ip: request.ip, requestId: request.id },
        request.params.id,
        request.body,
      ),
  );
}
