import { Type } from 'typebox';
import { RoleSchema } from '../users/users.schemas.ts';

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: Type.Optional(RoleSchema),
    expires_at: Type.Optional(
      Type.String({ format: 'date-time', description: 'Unset: the key never expires.' }),
    ),
  },
  { additionalProperties: false },
);

export const ApiKey = Type.Object({
  id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  role: RoleSchema,
  expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revoked_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

export const CreatedApiKey = Type.Intersect([
  ApiKey,
  Type.Object({ key: Type.String({ description: 'The secret. Shown this once only.' }) }),
]);

export const ApiKeyList = Type.Object({ api_keys: Type.Array(ApiKey) });
export const ApiKeyIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
