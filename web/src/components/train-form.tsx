import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import type { Dataset, Job } from '../api/types.ts';
import { FINISHED, StateBadge, useJobEvents } from './job-bits.tsx';
import { ProblemView, ProgressBar } from './states.tsx';

const ALGORITHMS = [
  ['random_forest_classifier', 'Random forest (classification)'],
  ['gradient_boosting_classifier', 'Gradient boosting (classification)'],
  ['logistic_regression', 'Logistic regression (classification)'],
  ['random_forest_regressor', 'Random forest (regression)'],
  ['gradient_boosting_regressor', 'Gradient boosting (regression)'],
  ['linear_regression', 'Linear regression'],
  ['kmeans', 'k-means clustering (no target)'],
  ['isolation_forest', 'Isolation forest anomalies (no target)'],
] as const;
const UNSUPERVISED = new Set(['kmeans', 'isolation_forest']);

function TrainingProgress({ jobId, onDone }: { jobId: string; onDone: () => void }) {
  const job = useQuery({
    queryKey: ['job', jobId],
    queryFn: () => api<Job>(`/api/v1/compute/jobs/${jobId}`),
    refetchInterval: (query) => (query.state.data && FINISHED.has(query.state.data.state) ? false : 3000),
  });
  useJobEvents(job.data);
  const data = job.data;
  const result = data?.result as { model_id?: string } | null | undefined;
  const succeeded = data?.state === 'succeeded';
  useEffect(() => {
    if (succeeded) onDone();
  }, [succeeded, onDone]);
  if (!data) return null;
  return (
    <div className="card stack" aria-live="polite">
      <p>
        Training job <Link to={`/jobs/${data.id}`}>{data.id.slice(0, 8)}</Link>{' '}
        <StateBadge state={data.state} />
      </p>
      <ProgressBar value={data.progress / 100} label="Training progress" />
      {data.progress_message && <p className="muted">{data.progress_message}</p>}
      {data.error && <p className="field-error">{data.error.message}</p>}
      {result?.model_id && (
        <p>
          <Link to={`/models/${result.model_id}`}>Open the trained model</Link>
        </p>
      )}
    </div>
  );
}

/** Train a model on a dataset: the training runs as a compute job whose progress is shown live. */
export function TrainForm({ onTrained }: { onTrained: () => void }) {
  const [dataset, setDataset] = useState('');
  const [target, setTarget] = useState('');
  const [features, setFeatures] = useState<string[]>([]);
  const [algorithm, setAlgorithm] = useState<string>(ALGORITHMS[0][0]);
  const [name, setName] = useState('');
  const datasets = useQuery({
    queryKey: ['datasets', '', false],
    queryFn: () =>
      api<{ datasets: Dataset[]; total: number }>('/api/v1/data/datasets', { query: { limit: 500 } }),
  });
  const chosen = datasets.data?.datasets.find((item) => item.name === dataset);
  const unsupervised = UNSUPERVISED.has(algorithm);
  const train = useMutation({
    mutationFn: async () =>
      (
        await api<{ job: Job }>('/api/v1/ai/models/train', {
          method: 'POST',
          body: {
            dataset,
            algorithm,
            features,
            ...(unsupervised ? {} : { target }),
            ...(name ? { name } : {}),
          },
        })
      ).job,
  });
  return (
    <div className="stack">
      <form
        className="card stack"
        aria-label="Train a model"
        onSubmit={(event) => {
          event.preventDefault();
          train.mutate();
        }}
      >
        <div className="form-row">
          <label>
            Dataset
            <select
              required
              value={dataset}
              onChange={(event) => {
                setDataset(event.target.value);
                setTarget('');
                setFeatures([]);
              }}
            >
              <option value="">Choose a dataset</option>
              {(datasets.data?.datasets ?? []).map((item) => (
                <option key={item.id}>{item.name}</option>
              ))}
            </select>
          </label>
          <label>
            Algorithm
            <select value={algorithm} onChange={(event) => setAlgorithm(event.target.value)}>
              {ALGORITHMS.map(([key, label]) => (
                <option key={key} value={key}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          {!unsupervised && (
            <label>
              Target (what to predict)
              <select
                required
                value={target}
                onChange={(event) => {
                  setTarget(event.target.value);
                  setFeatures(features.filter((feature) => feature !== event.target.value));
                }}
              >
                <option value="">Choose a column</option>
                {chosen?.columns.map((column) => (
                  <option key={column.name}>{column.name}</option>
                ))}
              </select>
            </label>
          )}
          <label>
            Model name
            <input
              value={name}
              maxLength={200}
              onChange={(event) => setName(event.target.value)}
              placeholder="optional"
            />
          </label>
        </div>
        {chosen && (
          <fieldset>
            <legend>Features</legend>
            <div className="radio-row">
              {chosen.columns
                .filter((column) => column.name !== target)
                .map((column) => (
                  <label key={column.name} className="inline">
                    <input
                      type="checkbox"
                      checked={features.includes(column.name)}
                      onChange={(event) =>
                        setFeatures(
                          event.target.checked
                            ? [...features, column.name]
                            : features.filter((item) => item !== column.name),
                        )
                      }
                    />
                    {column.name} <span className="col-type">{column.type}</span>
                  </label>
                ))}
            </div>
          </fieldset>
        )}
        <button type="submit" disabled={train.isPending || !dataset || features.length === 0}>
          Train
        </button>
        {train.isError && <ProblemView error={train.error} />}
      </form>
      {train.data && <TrainingProgress jobId={train.data.id} onDone={onTrained} />}
    </div>
  );
}
