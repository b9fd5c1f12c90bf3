import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/client.ts';
import type { FieldSpec, Model } from '../api/types.ts';
import { formatValue, ProblemView } from './states.tsx';

interface PredictAnswer {
  model_id: string;
  version: number;
  predictions: Record<string, unknown>[];
}

/** Numbers to four significant digits; class probabilities as `class 0.91, other 0.09`. */
function show(value: unknown): string {
  if (typeof value === 'number') return String(Number(value.toPrecision(4)));
  if (value && typeof value === 'object' && !Array.isArray(value))
    return Object.entries(value)
      .map(
        ([key, item]) =>
          `${key} ${typeof item === 'number' ? Number(item.toPrecision(3)) : formatValue(item)}`,
      )
      .join(', ');
  return formatValue(value);
}

function parseValue(field: FieldSpec, text: string): unknown {
  if (text === '') return null;
  if (field.type === 'number') return Number(text);
  if (field.type === 'tensor') return JSON.parse(text) as unknown;
  return text;
}

/** One row typed into a form built from the model's input schema, sent to the predict endpoint. */
export function PredictForm({ model, version }: { model: Model; version: number | undefined }) {
  const fields = model.versions.find((item) => item.version === version)?.input_schema.fields ?? [];
  const [values, setValues] = useState<Record<string, string>>({});
  const predict = useMutation({
    mutationFn: () => {
      const row = Object.fromEntries(
        fields.map((field) => [field.name, parseValue(field, values[field.name] ?? '')]),
      );
      return api<PredictAnswer>(`/api/v1/ai/models/${model.id}/predict`, {
        method: 'POST',
        query: { version },
        body: { rows: [row] },
      });
    },
  });
  return (
    <form
      className="card stack"
      aria-label="Predict"
      onSubmit={(event) => {
        event.preventDefault();
        predict.mutate();
      }}
    >
      <div className="form-row">
        {fields.map((field) => (
          <label key={field.name}>
            {field.name} <span className="col-type">{field.type}</span>
            {field.categories ? (
              <select
                value={values[field.name] ?? ''}
                onChange={(event) => setValues({ ...values, [field.name]: event.target.value })}
              >
                <option value="">{field.nullable ? '(missing)' : 'Choose'}</option>
                {field.categories.map((category) => (
                  <option key={category}>{category}</option>
                ))}
              </select>
            ) : (
              <input
                inputMode={field.type === 'number' ? 'decimal' : undefined}
                required={!field.nullable}
                value={values[field.name] ?? ''}
                placeholder={
                  field.type === 'tensor'
                    ? `JSON array, shape ${JSON.stringify(field.shape ?? [])}`
                    : undefined
                }
                onChange={(event) => setValues({ ...values, [field.name]: event.target.value })}
              />
            )}
          </label>
        ))}
      </div>
      <button type="submit" disabled={predict.isPending}>
        Predict
      </button>
      {predict.isError && <ProblemView error={predict.error} />}
      {predict.data && (
        <div className="notice" role="status" aria-label="Prediction">
          <p>Version {predict.data.version} predicts:</p>
          <dl className="stats">
            {Object.entries(predict.data.predictions[0] ?? {}).map(([key, value]) => (
              <div key={key} style={{ display: 'contents' }}>
                <dt>{key}</dt>
                <dd>{show(value)}</dd>
              </div>
            ))}
          </dl>
        </div>
      )}
    </form>
  );
}
