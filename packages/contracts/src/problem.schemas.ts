import { Type, type Static } from 'typebox';

/** One field, line or column at fault in a refused request. */
export const ProblemFieldError = Type.Object({
  field: Type.String({ description: 'JSON pointer, form field, or `line:column` at fault.' }),
  message: Type.String(),
});
export type ProblemFieldError = Static<typeof ProblemFieldError>;

/** RFC 9457 problem details, as every DataLab service answers errors. */
export const Problem = Type.Object(
  {
    type: Type.String({ description: 'URN naming the kind of problem, e.g. `urn:datalab:problem:invalid`.' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.String({ description: 'Path of the request that failed.' }),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(ProblemFieldError)),
  },
  { additionalProperties: true },
);
export type Problem = Static<typeof Problem>;
