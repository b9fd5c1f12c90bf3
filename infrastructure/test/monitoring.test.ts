import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { repoRoot } from '../../test/processes.ts';
import { alertTests, dashboardExpressions, monitoringDir, ruleFiles, ruleGroups } from './lib/monitoring.ts';
import { prometheusRuleFile } from './lib/prometheus-rule.ts';

const run = promisify(execFile);

/** The seed's alerts, each with the rule that implements it. */
const SEED_ALERTS = {
  'critical: service down > 5 min': { alert: 'DataLabServiceDown', severity: 'critical', for: '5m' },
  'critical: error rate > 5% for 10 min': {
    alert: 'DataLabErrorRateCritical',
    severity: 'critical',
    for: '10m',
  },
  'critical: p95 > 2x baseline for 15 min': {
    alert: 'DataLabLatencyCritical',
    severity: 'critical',
    for: '15m',
  },
  'critical: database connection failures': {
    alert: 'DataLabDatabaseConnectionFailures',
    severity: 'critical',
    for: '2m',
  },
  'critical: node failures': { alert: 'DataLabNodeDown', severity: 'critical', for: '5m' },
  'warning: error rate > 1% for 5 min': { alert: 'DataLabErrorRateWarning', severity: 'warning', for: '5m' },
  'warning: p95 > 1.5x baseline for 10 min': {
    alert: 'DataLabLatencyWarning',
    severity: 'warning',
    for: '10m',
  },
  'warning: memory > 80% for 30 min': { alert: 'DataLabMemoryHigh', severity: 'warning', for: '30m' },
  'warning: CPU > 70% for 20 min': { alert: 'DataLabCPUHigh', severity: 'warning', for: '20m' },
  'warning: disk < 20% free': { alert: 'DataLabDiskSpaceLow', severity: 'warning', for: '10m' },
  'queue depth': { alert: 'DataLabJobQueueDeep', severity: 'warning', for: '10m' },
  'worker health': { alert: 'DataLabNoWorkers', severity: 'critical', for: '5m' },
} as const;

describe('Prometheus and Alertmanager configuration', () => {
  it('passes promtool check config, which loads and checks every rule file too', async () => {
    const { stdout } = await run('promtool', ['check', 'config', path.join(monitoringDir, 'prometheus.yml')]);

    expect(stdout).toContain('SUCCESS');
    expect(stdout).not.toContain('FAILED');
  });

  it('passes promtool check rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', ...(await ruleFiles())]);

    expect(stdout.match(/SUCCESS/g)).toHaveLength((await ruleFiles()).length);
  });

  it('passes the promtool unit tests: every alert fires on breaking series and stays silent on healthy ones', async () => {
    const { files, tests } = await alertTests();
    const { stdout } = await run('promtool', ['test', 'rules', ...files], {
      cwd: path.join(monitoringDir, 'tests'),
    });

    expect(stdout.match(/SUCCESS/g)).toHaveLength(files.length);
    const alerts = (await ruleGroups()).flatMap((group) => group.rules.flatMap((rule) => rule.alert ?? []));
    for (const alert of alerts) {
      const own = tests.filter((test) => test.alertname === alert);
      expect(
        own.some((test) => test.exp_alerts.length > 0),
        `${alert} is shown firing`,
      ).toBe(true);
      expect(
        own.some((test) => test.exp_alerts.length === 0),
        `${alert} is shown silent`,
      ).toBe(true);
    }
  });

  it("implements every alert the seed lists, with the seed's severity and duration, and a runbook", async () => {
    const rules = (await ruleGroups()).flatMap((group) => group.rules);
    const operations = await readFile(path.join(monitoringDir, '..', '..', 'docs', 'operations.md'), 'utf8');
    for (const [seed, expected] of Object.entries(SEED_ALERTS)) {
      const rule = rules.find((candidate) => candidate.alert === expected.alert);
      expect(rule, seed).toBeDefined();
      expect({ severity: rule?.labels?.severity, for: rule?.for }, seed).toEqual({
        severity: expected.severity,
        for: expected.for,
      });
    }
    for (const rule of rules.filter((candidate) => candidate.alert)) {
      const anchor = rule.annotations?.runbook_url?.split('#')[1];
      expect(anchor, `${rule.alert} links its runbook`).toBe(rule.alert?.toLowerCase());
      expect(operations, `docs/operations.md has a section for ${rule.alert}`).toMatch(
        new RegExp(`^#+ ${rule.alert}$`, 'm'),
      );
    }
  });

  it('routes critical alerts to PagerDuty and warnings to Slack, reading both secrets from files', async () => {
    const config = path.join(monitoringDir, 'alertmanager.yml');
    const route = async (...labels: string[]) =>
      (await run('amtool', ['config', 'routes', 'test', `--config.file=${config}`, ...labels])).stdout.trim();

    await run('amtool', ['check-config', config]);
    expect(await route('severity=critical', 'alertname=DataLabServiceDown')).toBe(
      'pagerduty-critical,slack-warnings',
    );
    expect(await route('severity=warning', 'alertname=DataLabMemoryHigh')).toBe('slack-warnings');
    const text = await readFile(config, 'utf8');
    expect(text).toContain('routing_key_file: /run/secrets/pagerduty_routing_key');
    expect(text).toContain('api_url_file: /run/secrets/slack_webhook_url');
    expect(text).not.toMatch(/routing_key:|api_url:|hooks\.slack\.com/);
  });

  it('provisions dashboards whose every panel queries the provisioned Prometheus', async () => {
    const expressions = await dashboardExpressions();
    const sources = await readFile(
      path.join(monitoringDir, 'grafana', 'provisioning', 'datasources', 'prometheus.yml'),
      'utf8',
    );

    expect(expressions.length).toBeGreaterThan(50);
    expect(sources).toContain('uid: prometheus');
    for (const { where, expr } of expressions) expect(expr.trim(), where).not.toBe('');
  });

  it('gives Kubernetes the very rules promtool tests, as a PrometheusRule', async () => {
    const rule = parse(await readFile(prometheusRuleFile, 'utf8')) as {
      kind: string;
      spec: { groups: unknown };
    };

    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.spec.groups, 'regenerate: npx tsx infrastructure/test/lib/prometheus-rule.ts').toEqual(
      await ruleGroups(),
    );
  });

  it('builds the monitoring, PostgreSQL and Redis kustomize components', async () => {
    const kinds = async (dir: string) => {
      const { stdout } = await run('kubectl', ['kustomize', path.join(repoRoot, 'infrastructure', dir)]);
      return parseAllDocuments(stdout).map((document) => (document.toJSON() as { kind: string }).kind);
    };

    expect(await kinds('monitoring')).toEqual(
      expect.arrayContaining(['ServiceMonitor', 'PrometheusRule', 'AlertmanagerConfig', 'ConfigMap']),
    );
    expect(await kinds('postgres')).toEqual(expect.arrayContaining(['Cluster', 'ScheduledBackup']));
    expect(await kinds('redis')).toEqual(
      expect.arrayContaining(['StatefulSet', 'ConfigMap', 'NetworkPolicy']),
    );
  });
});
