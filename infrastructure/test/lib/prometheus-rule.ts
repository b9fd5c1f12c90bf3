import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { monitoringDir, ruleGroups } from './monitoring.ts';

export const prometheusRuleFile = path.join(monitoringDir, 'k8s', 'prometheus-rule.yaml');

const HEADER = `# Generated from infrastructure/monitoring/rules/*.rules.yml, so Kubernetes evaluates the very
# rules promtool tests. Regenerate: npx tsx infrastructure/test/lib/prometheus-rule.ts && npx prettier --write infrastructure/monitoring/k8s
`;

/** The rule files as one Prometheus Operator PrometheusRule. */
export async function prometheusRule(): Promise<string> {
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'datalab', labels: { 'app.kubernetes.io/name': 'datalab-monitoring' } },
    spec: { groups: await ruleGroups() },
  };
  return HEADER + stringify(rule, { lineWidth: 0 });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(prometheusRuleFile, await prometheusRule());
}
