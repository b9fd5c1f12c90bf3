import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client.ts';
import type { ModelSummary } from '../api/types.ts';
import { canEdit, useSession } from '../auth/session.tsx';
import { OnnxUpload } from '../components/onnx-upload.tsx';
import { Empty, formatDate, Loading, ProblemView } from '../components/states.tsx';
import { Tabs } from '../components/tabs.tsx';
import { TrainForm } from '../components/train-form.tsx';

export default function ModelsPage() {
  const { me } = useSession();
  const client = useQueryClient();
  const [tab, setTab] = useState<'train' | 'onnx'>('train');
  const models = useQuery({
    queryKey: ['models'],
    queryFn: () =>
      api<{ models: ModelSummary[]; total: number }>('/api/v1/ai/models', { query: { limit: 200 } }),
  });
  const refresh = useCallback(() => void client.invalidateQueries({ queryKey: ['models'] }), [client]);
  return (
    <section>
      <h1 tabIndex={-1}>Models</h1>
      {canEdit(me) && (
        <>
          <Tabs
            label="Add a model"
            current={tab}
            onChange={setTab}
            tabs={[
              ['train', 'Train on a dataset'],
              ['onnx', 'Upload ONNX'],
            ]}
          />
          <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tabpanel">
            {tab === 'train' ? <TrainForm onTrained={refresh} /> : <OnnxUpload onDone={refresh} />}
          </div>
        </>
      )}
      <h2>Registry</h2>
      {models.isPending && <Loading />}
      {models.isError && <ProblemView error={models.error} />}
      {models.data && models.data.models.length === 0 && <Empty>No models yet.</Empty>}
      {models.data && models.data.models.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Models you can use</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Latest version</th>
                <th scope="col">Production</th>
                <th scope="col">Visibility</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {models.data.models.map((model) => (
                <tr key={model.id}>
                  <td>
                    <Link to={`/models/${model.id}`}>{model.name}</Link>
                  </td>
                  <td>{model.latest_version ?? '—'}</td>
                  <td>{model.production_version ?? '—'}</td>
                  <td>{model.visibility}</td>
                  <td>{formatDate(model.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
