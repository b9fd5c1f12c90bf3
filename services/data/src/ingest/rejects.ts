import { reportValue } from './errors.ts';
import type { RejectedRow } from './types.ts';

/** The downloadable report stops growing at this many characters; the count still counts every rejected row. */
export const REJECTS_CSV_MAX_CHARS = 1024 * 1024;
const RAW_ROW_CHARS = 2000;

const csvField = (text: string): string => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/** Rows refused so far: the first few in full, all of them (up to a cap) as CSV, and how many. */
export function rejectLog(listed: number) {
  const first: RejectedRow[] = [];
  let count = 0;
  let csv = 'line,column,value,expected,message,row\n';
  let capped = false;

  return {
    get count(): number {
      return count;
    },
    get first(): RejectedRow[] {
      return first;
    },
    get csv(): string {
      return csv;
    },

    /** `values`: the row as read, when there is one, so the report shows what to fix. */
    add(reject: RejectedRow, values?: readonly unknown[]): void {
      count++;
      if (first.length < listed) first.push(reject);
      if (capped) return;
      const raw = values
        ? values.map((value) => csvField(value == null ? '' : reportValue(value))).join(',')
        : '';
      const line = [
        String(reject.line),
        reject.column ?? '',
        reject.value ?? '',
        reject.expected ?? '',
        reject.message,
        raw.slice(0, RAW_ROW_CHARS),
      ]
        .map(csvField)
        .join(',');
      if (csv.length + line.length + 1 > REJECTS_CSV_MAX_CHARS) capped = true;
      else csv += `${line}\n`;
    },
  };
}

export type RejectLog = ReturnType<typeof rejectLog>;
