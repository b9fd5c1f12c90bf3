import { lazy, Suspense, useEffect, useRef } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { useSession } from './auth/session.tsx';
import { Layout } from './components/layout.tsx';
import { Loading } from './components/states.tsx';
import { LoginPage } from './pages/login.page.tsx';

const DatasetsPage = lazy(() => import('./pages/datasets.page.tsx'));
const DatasetPage = lazy(() => import('./pages/dataset.page.tsx'));
const QueryPage = lazy(() => import('./pages/query.page.tsx'));
const ChartsPage = lazy(() => import('./pages/charts.page.tsx'));
const ChartBuilderPage = lazy(() => import('./pages/chart-builder.page.tsx'));
const DashboardsPage = lazy(() => import('./pages/dashboards.page.tsx'));
const DashboardPage = lazy(() => import('./pages/dashboard.page.tsx'));
const ModelsPage = lazy(() => import('./pages/models.page.tsx'));
const ModelPage = lazy(() => import('./pages/model.page.tsx'));
const JobsPage = lazy(() => import('./pages/jobs.page.tsx'));
const JobPage = lazy(() => import('./pages/job.page.tsx'));
const AccountPage = lazy(() => import('./pages/account.page.tsx'));
const AdminPage = lazy(() => import('./pages/admin.page.tsx'));

/** Moves focus to the page's heading on navigation, so screen readers announce the new page. */
function FocusOnNavigate() {
  const location = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => document.querySelector<HTMLElement>('main h1')?.focus(), 50);
    return () => clearTimeout(timer);
  }, [location.pathname]);
  return null;
}

export function App() {
  const { me, loading } = useSession();
  const location = useLocation();
  if (loading) return <Loading label="Signing in…" />;
  if (!me) {
    if (location.pathname === '/login') return <LoginPage />;
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/login${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} replace />;
  }
  return (
    <Layout>
      <FocusOnNavigate />
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/" element={<Navigate to="/datasets" replace />} />
          <Route path="/login" element={<Navigate to="/datasets" replace />} />
          <Route path="/datasets" element={<DatasetsPage />} />
          <Route path="/datasets/:id" element={<DatasetPage />} />
          <Route path="/query" element={<QueryPage />} />
          <Route path="/charts" element={<ChartsPage />} />
          <Route path="/charts/new" element={<ChartBuilderPage />} />
          <Route path="/charts/:id" element={<ChartBuilderPage />} />
          <Route path="/dashboards" element={<DashboardsPage />} />
          <Route path="/dashboards/:id" element={<DashboardPage />} />
          <Route path="/models" element={<ModelsPage />} />
          <Route path="/models/:id" element={<ModelPage />} />
          <Route path="/jobs" element={<JobsPage />} />
          <Route path="/jobs/:id" element={<JobPage />} />
          <Route path="/account" element={<AccountPage />} />
          <Route path="/admin" element={<AdminPage />} />
          <Route
            path="*"
            element={
              <section>
                <h1 tabIndex={-1}>Not found</h1>
                <p>There is no page at {location.pathname}.</p>
              </section>
            }
          />
        </Routes>
      </Suspense>
    </Layout>
  );
}
