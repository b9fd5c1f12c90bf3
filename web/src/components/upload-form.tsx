import { useState, type FormEvent } from 'react';
import { upload } from '../api/client.ts';
import type { UploadResult, Visibility } from '../api/types.ts';
import { ProblemView, ProgressBar } from './states.tsx';

interface UploadFormProps {
  /** Where the form posts: a new dataset, or a new version of one. */
  path: string;
  mode?: 'create' | 'version';
  onDone: (result: UploadResult) => void;
}

/** Uploads a file with a real progress bar; a refused file shows its report, row by row. */
export function UploadForm({ path, mode = 'create', onDone }: UploadFormProps) {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('private');
  const [onError, setOnError] = useState<'fail' | 'skip'>('fail');
  const [versionMode, setVersionMode] = useState<'append' | 'replace'>('append');
  const [progress, setProgress] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const [result, setResult] = useState<UploadResult | undefined>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const form = new FormData();
    if (mode === 'create') {
      if (name) form.append('name', name);
      form.append('visibility', visibility);
    } else form.append('mode', versionMode);
    form.append('on_error', onError);
    form.append('file', file, file.name);
    setError(undefined);
    setResult(undefined);
    setProgress(0);
    try {
      const answer = await upload<UploadResult>(path, form, setProgress);
      setResult(answer);
      onDone(answer);
    } catch (caught) {
      setError(caught);
    } finally {
      setProgress(undefined);
    }
  };

  return (
    <form
      className="card upload"
      onSubmit={(event) => void submit(event)}
      aria-label={mode === 'create' ? 'Upload a dataset' : 'Add a version'}
    >
      <div className="form-row">
        <label>
          File (CSV, TSV, JSON, NDJSON, Parquet, Excel)
          <input
            type="file"
            required
            accept=".csv,.tsv,.txt,.json,.ndjson,.jsonl,.parquet,.xlsx"
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
        </label>
        {mode === 'create' ? (
          <>
            <label>
              Name (optional)
              <input
                value={name}
                maxLength={63}
                onChange={(event) => setName(event.target.value)}
                placeholder="from the file name"
              />
            </label>
            <label>
              Visibility
              <select
                value={visibility}
                onChange={(event) => setVisibility(event.target.value as Visibility)}
              >
                <option value="private">Private (only me)</option>
                <option value="shared">Shared (everyone can read)</option>
              </select>
            </label>
          </>
        ) : (
          <label>
            Mode
            <select
              value={versionMode}
              onChange={(event) => setVersionMode(event.target.value as 'append' | 'replace')}
            >
              <option value="append">Append rows</option>
              <option value="replace">Replace contents</option>
            </select>
          </label>
        )}
        <label>
          Bad rows
          <select value={onError} onChange={(event) => setOnError(event.target.value as 'fail' | 'skip')}>
            <option value="fail">Refuse the whole file</option>
            <option value="skip">Skip them and keep the rest</option>
          </select>
        </label>
      </div>
      <button type="submit" disabled={!file || progress !== undefined}>
        {progress !== undefined ? 'Uploading…' : mode === 'create' ? 'Upload' : 'Add version'}
      </button>
      {progress !== undefined && (
        <ProgressBar
          value={progress}
          label={progress < 1 ? 'Upload progress' : 'Upload sent, the server is reading it'}
        />
      )}
      {progress === 1 && <p className="muted">Sent; the server is checking and loading the rows…</p>}
      {error !== undefined && (
        <div>
          <h2 className="h3">The file was refused</h2>
          <ProblemView error={error} />
        </div>
      )}
      {result && (
        <div className="notice" role="status">
          {result.rows_written} rows written to <strong>{result.dataset.name}</strong> (version{' '}
          {result.dataset.version}).
          {result.rejects.count > 0 && (
            <>
              {' '}
              {result.rejects.count} rows skipped:
              <ul>
                {result.rejects.first.map((row, index) => (
                  <li key={index}>
                    Line {row.line}
                    {row.column ? `, column ${row.column}` : ''}: {row.message}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </form>
  );
}
