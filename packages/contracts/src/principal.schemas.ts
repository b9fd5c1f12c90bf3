import { Type, type Static } from 'typebox';

/**
 * A user's role and status now, as the gateway's internal principals endpoint answers them to
 * the services (`GET /internal/v1/principals/{id}`): what work started earlier on that user's
 * behalf may still do.
 */
export const PrincipalStatus = Type.Object({
  id: Type.String({ format: 'uuid' }),
  email: Type.String(),
  role: Type.Union([Type.Literal('admin'), Type.Literal('editor'), Type.Literal('viewer')]),
  disabled: Type.Boolean(),
  api_key: Type.Optional(
    Type.Union(
      [
        Type.Object({
          id: Type.String({ format: 'uuid' }),
          state: Type.Union([Type.Literal('active'), Type.Literal('revoked'), Type.Literal('expired')]),
        }),
        Type.Null(),
      ],
      { description: 'The API key asked about (`?api_key=`); null when the user has no such key.' },
    ),
  ),
});
export type PrincipalStatus = Static<typeof PrincipalStatus>;

/** Where the gateway answers a user's current role and status to the other DataLab services. */
export const PRINCIPALS_PATH = '/internal/v1/principals';
