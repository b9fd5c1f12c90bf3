import http from 'node:http';
import type { AddressInfo } from 'node:net';
import ExcelJS from 'exceljs';
import { parquetWriteBuffer } from 'hyparquet-writer';

/**
 * One small table, written in every format an upload takes. Each file holds the same values, so
 * what comes back can be compared with one list written out here, never with what the engine says.
 */
export interface Trip {
  code: string;
  city: string | null;
  day: string | null;
  at: string | null;
  ok: boolean | null;
  amount: number;
  count: number;
}

export const TRIPS: Trip[] = [
  {
    code: '007',
    city: 'Lyon, "la belle"',
    day: '2024-02-29',
    at: '2024-03-01T12:30:00Z',
    ok: true,
    amount: 12.5,
    count: 3,
  },
  {
    code: '042',
    city: 'Zürich 🏔',
    day: '1999-12-31',
    at: '2000-01-01T00:00:00Z',
    ok: false,
    amount: -0.25,
    count: 0,
  },
  { code: '100', city: null, day: null, at: null, ok: null, amount: 1e6, count: -7 },
];

export const TRIP_COLUMNS = ['code', 'city', 'day', 'at', 'ok', 'amount', 'count'] as const;

/** The types DataLab must see in these values, whatever the format. */
export const TRIP_TYPES = {
  code: 'text',
  city: 'text',
  day: 'date',
  at: 'timestamp',
  ok: 'boolean',
  amount: 'float',
  count: 'integer',
};

const cell = (value: string | number | boolean | null): string =>
  value === null
    ? ''
    : /[",\n\t]/.test(String(value))
      ? `"${String(value).replace(/"/g, '""')}"`
      : String(value);

/** The trips as delimited text (`,` for CSV, a tab for TSV). */
export function tripsText(delimiter = ','): string {
  const lines = TRIPS.map((trip) => TRIP_COLUMNS.map((name) => cell(trip[name])).join(delimiter));
  return `${TRIP_COLUMNS.join(delimiter)}\n${lines.join('\n')}\n`;
}

export const tripsJson = (): string => JSON.stringify(TRIPS);
export const tripsNdjson = (): string => TRIPS.map((trip) => JSON.stringify(trip)).join('\n');

const DAY_MS = 86_400_000;

/** Parquet with the file's own types: strings, a DATE, a TIMESTAMP in milliseconds, BOOLEAN, DOUBLE, INT64. */
export function tripsParquet(): Blob {
  const optional = (name: string, type: string, extra: Record<string, string> = {}) => ({
    name,
    type,
    repetition_type: 'OPTIONAL',
    ...extra,
  });
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'code', data: TRIPS.map((t) => t.code) },
      { name: 'city', data: TRIPS.map((t) => t.city) },
      { name: 'day', data: TRIPS.map((t) => (t.day === null ? null : Date.parse(t.day) / DAY_MS)) },
      { name: 'at', data: TRIPS.map((t) => (t.at === null ? null : BigInt(Date.parse(t.at)))) },
      { name: 'ok', data: TRIPS.map((t) => t.ok) },
      { name: 'amount', data: TRIPS.map((t) => t.amount) },
      { name: 'count', data: TRIPS.map((t) => BigInt(t.count)) },
    ],
    schema: [
      { name: 'root', num_children: 7 },
      { name: 'code', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      optional('city', 'BYTE_ARRAY', { converted_type: 'UTF8' }),
      optional('day', 'INT32', { converted_type: 'DATE' }),
      optional('at', 'INT64', { converted_type: 'TIMESTAMP_MILLIS' }),
      optional('ok', 'BOOLEAN'),
      { name: 'amount', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'count', type: 'INT64', repetition_type: 'REQUIRED' },
    ],
  } as Parameters<typeof parquetWriteBuffer>[0]);
  return new Blob([buffer]);
}

export async function tripsXlsx(): Promise<Blob> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('trips');
  sheet.addRow([...TRIP_COLUMNS]);
  for (const trip of TRIPS) {
    sheet.addRow([
      trip.code,
      trip.city,
      trip.day === null ? null : new Date(`${trip.day}T00:00:00Z`),
      trip.at === null ? null : new Date(trip.at),
      trip.ok,
      trip.amount,
      trip.count,
    ]);
  }
  return new Blob([await book.xlsx.writeBuffer()]);
}

/** Eight orders with every column type and some nulls, for queries. */
export const ORDERS = [
  'id,region,amount,day,at,paid,meta',
  '1,north,10.5,2024-01-01,2024-01-01T10:00:00Z,true,"{""a"":1}"',
  '2,south,20,2024-01-02,2024-01-02T11:30:00Z,false,',
  '3,north,5.25,2024-01-02,,true,[1]',
  '4,east,,2024-01-03,2024-01-03T00:00:00Z,,',
  '5,south,7,,2024-01-04T09:15:00Z,true,',
  '6,north,1,2024-01-04,,false,',
  '7,west,100,2024-01-05,2024-01-05T23:59:59Z,true,',
  '8,south,3,2024-01-06,,,',
].join('\n');
export const ORDER_COLUMNS = ['id', 'region', 'amount', 'day', 'at', 'paid', 'meta'];
export const ORDER_TYPES = ['integer', 'text', 'float', 'date', 'timestamp', 'boolean', 'json'];
/** The first three orders in plain form (timestamps as epoch milliseconds). */
export const FIRST_THREE_ORDERS = [
  [1, 'north', 10.5, '2024-01-01', Date.UTC(2024, 0, 1, 10), true, { a: 1 }],
  [2, 'south', 20, '2024-01-02', Date.UTC(2024, 0, 2, 11, 30), false, null],
  [3, 'north', 5.25, '2024-01-02', null, true, [1]],
];

/** An HTTP server on this machine answering `files` (path → content type and body), 404 otherwise. */
export async function serveFiles(
  files: Record<string, [string, string]>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((request, response) => {
    const file = files[request.url ?? ''];
    if (!file) return void response.writeHead(404).end('no such file');
    response.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
