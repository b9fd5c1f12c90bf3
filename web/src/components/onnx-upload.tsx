import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { upload } from '../api/client.ts';
import type { ModelVersion, Visibility } from '../api/types.ts';
import { ProblemView, ProgressBar } from './states.tsx';

export function OnnxUpload({ onDone }: { onDone: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [visibility, setVisibility] = useState<Visibility>('private');
  const [progress, setProgress] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const [model, setModel] = useState<ModelVersion | undefined>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    const form = new FormData();
    if (name) form.append('name', name);
    form.append('visibility', visibility);
    form.append('file', file, file.name);
    setError(undefined);
    setProgress(0);
    try {
      setModel(await upload<ModelVersion>('/api/v1/ai/models/onnx', form, setProgress));
      onDone();
    } catch (caught) {
      setError(caught);
    } finally {
      setProgress(undefined);
    }
  };
  return (
    <form className="card stack" onSubmit={(event) => void submit(event)} aria-label="Upload an ONNX model">
      <div className="form-row">
        <label>
          ONNX file
          <input
            type="file"
            accept=".onnx"
            required
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
        </label>
        <label>
          Name
          <input
            value={name}
            maxLength={200}
            onChange={(event) => setName(event.target.value)}
            placeholder="from the file name"
          />
        </label>
        <label>
          Visibility
          <select value={visibility} onChange={(event) => setVisibility(event.target.value as Visibility)}>
            <option value="private">Private</option>
            <option value="shared">Shared</option>
          </select>
        </label>
      </div>
      <button type="submit" disabled={!file || progress !== undefined}>
        Upload model
      </button>
      {progress !== undefined && <ProgressBar value={progress} label="Upload progress" />}
      {error !== undefined && <ProblemView error={error} />}
      {model && (
        <p className="notice" role="status">
          Registered as <Link to={`/models/${model.model_id}`}>version {model.version}</Link> (
          {model.input_schema.fields.length} inputs, {model.output_schema.fields.length} outputs).
        </p>
      )}
    </form>
  );
}
