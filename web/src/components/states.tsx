import type { ReactNode } from 'react';
import { asProblem, type Problem } from '../api/problem.ts';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

/** A refusal in words: what went wrong, then each field, line or column it names. */
export function ProblemView({ error, problem }: { error?: unknown; problem?: Problem }) {
  const shown = problem ?? asProblem(error);
  const rows = Array.isArray(shown.rows) ? shown.rows : [];
  const fields = (shown.errors ?? []).filter((item) => !rows.length || !item.field.startsWith('line'));
  return (
    <div className="problem" role="alert">
      <p className="problem-title">
        <strong>{shown.title}</strong>
        {shown.status > 0 && <span className="muted"> ({shown.status})</span>}
      </p>
      {shown.detail && shown.detail !== shown.title && <p>{shown.detail}</p>}
      {fields.length > 0 && (
        <ul className="problem-fields">
          {fields.map((item, index) => (
            <li key={index}>
              <code>{item.field}</code>: {item.message}
            </li>
          ))}
        </ul>
      )}
      {rows.length > 0 && (
        <table className="table compact" aria-label="Rows refused">
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Column</th>
              <th scope="col">Value</th>
              <th scope="col">Expected</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => (
              <tr key={index}>
                <td>{row.line}</td>
                <td>{row.column ?? '—'}</td>
                <td>{row.value === undefined ? '—' : <code>{row.value}</code>}</td>
                <td>{row.expected ?? '—'}</td>
                <td>{row.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown.request_id && <p className="muted small">Request id: {shown.request_id}</p>}
    </div>
  );
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const percent = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
      >
        <div className="progress-fill" style={{ width: `${percent}%` }} />
      </div>
      <span className="progress-text">{percent}%</span>
    </div>
  );
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString();
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
