import { Type, type Static } from 'typebox';
import { Visibility } from '../charts/charts.schemas.ts';

const Title = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({ maxLength: 2000 });

const Cell = {
  x: Type.Integer({ minimum: 0, maximum: 23, description: 'Column of the left edge, from 0.' }),
  y: Type.Integer({ minimum: 0, maximum: 199, description: 'Row of the top edge, from 0.' }),
  w: Type.Integer({ minimum: 1, maximum: 24, description: 'Width in columns.' }),
  h: Type.Integer({ minimum: 1, maximum: 40, description: 'Height in rows.' }),
};

export const ChartItem = Type.Object(
  { type: Type.Literal('chart'), chart_id: Type.String({ format: 'uuid' }), ...Cell },
  { additionalProperties: false },
);
export const TextItem = Type.Object(
  { type: Type.Literal('text'), text: Type.String({ minLength: 1, maxLength: 4000 }), ...Cell },
  { additionalProperties: false },
);
export const DashboardItem = Type.Union([ChartItem, TextItem]);
export type DashboardItem = Static<typeof DashboardItem>;

export const Layout = Type.Object(
  {
    columns: Type.Integer({ minimum: 1, maximum: 24, default: 12, description: 'Columns of the grid.' }),
    row_height: Type.Integer({
      minimum: 20,
      maximum: 1000,
      default: 80,
      description: 'Height of a row in pixels.',
    }),
    items: Type.Array(DashboardItem, { maxItems: 50 }),
  },
  { additionalProperties: false, description: 'A grid of saved charts and text blocks.' },
);
export type Layout = Static<typeof Layout>;

export const DashboardSummary = Type.Object({
  id: Type.String({ format: 'uuid' }),
  owner_id: Type.String({ format: 'uuid' }),
  visibility: Visibility,
  title: Type.String(),
  description: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export type DashboardSummary = Static<typeof DashboardSummary>;

export const Dashboard = Type.Intersect([DashboardSummary, Type.Object({ layout: Layout })]);
export type Dashboard = Static<typeof Dashboard>;

export const CreateDashboardBody = Type.Object(
  {
    title: Title,
    description: Type.Optional(Description),
    visibility: Type.Optional(Visibility),
    layout: Layout,
  },
  { additionalProperties: false },
);
export type CreateDashboardBody = Static<typeof CreateDashboardBody>;

export const UpdateDashboardBody = Type.Object(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    visibility: Type.Optional(Visibility),
    layout: Type.Optional(Layout),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateDashboardBody = Static<typeof UpdateDashboardBody>;

export const DashboardIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ListDashboardsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
  owner: Type.Optional(Type.Literal('me', { description: '`me`: only the dashboards I own.' })),
});
export type ListDashboardsQuery = Static<typeof ListDashboardsQuery>;

export const DashboardList = Type.Object({
  dashboards: Type.Array(DashboardSummary),
  total: Type.Integer({ description: 'How many dashboards match, across all pages.' }),
});
export type DashboardList = Static<typeof DashboardList>;
