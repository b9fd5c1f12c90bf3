import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../../../test/processes.ts';

export const monitoringDir = path.join(repoRoot, 'infrastructure', 'monitoring');

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  interval?: string;
  rules: Rule[];
}

/** The rule files Prometheus loads, as `prometheus.yml` lists them. */
export async function ruleFiles(): Promise<string[]> {
  const config = parse(await readFile(path.join(monitoringDir, 'prometheus.yml'), 'utf8')) as {
    rule_files: string[];
  };
  return config.rule_files.map((file) => path.join(monitoringDir, file));
}

export async function ruleGroups(): Promise<RuleGroup[]> {
  const groups: RuleGroup[] = [];
  for (const file of await ruleFiles()) {
    groups.push(...(parse(await readFile(file, 'utf8')) as { groups: RuleGroup[] }).groups);
  }
  return groups;
}

export interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: unknown[];
}

/** Every `alert_rule_test` of the promtool unit-test files. */
export async function alertTests(): Promise<{ files: string[]; tests: AlertTest[] }> {
  const dir = path.join(monitoringDir, 'tests');
  const files = (await readdir(dir))
    .filter((name) => name.endsWith('.test.yml'))
    .map((name) => path.join(dir, name));
  const tests: AlertTest[] = [];
  for (const file of files) {
    const content = parse(await readFile(file, 'utf8')) as { tests: { alert_rule_test?: AlertTest[] }[] };
    for (const test of content.tests) tests.push(...(test.alert_rule_test ?? []));
  }
  return { files, tests };
}

/** Every PromQL expression of the provisioned Grafana dashboards, with where it comes from. */
export async function dashboardExpressions(): Promise<{ where: string; expr: string }[]> {
  const dir = path.join(monitoringDir, 'grafana', 'dashboards');
  const found: { where: string; expr: string }[] = [];
  for (const name of await readdir(dir)) {
    const dashboard = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? [])
        found.push({ where: `${name}: ${panel.title}`, expr: target.expr });
    }
  }
  return found;
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: strings, label matchers,
 * ranges, offsets and grouping label lists are removed first, then every
 * identifier that is not a function call or a keyword is a metric.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\boffset\s+\w+/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = stripped.slice(match.index + match[0].length);
    if (/^\s*\(/.test(rest) || KEYWORDS.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** `# TYPE` lines name every metric a `/metrics` page exposes, observed or not yet. */
export function exposedNames(page: string): Map<string, string> {
  const types = new Map<string, string>();
  for (const match of page.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(match[1]!, match[2]!);
  return types;
}

/** Whether `name` is read from `exposed`, allowing the series a histogram or summary adds. */
export function isExposed(name: string, exposed: Map<string, string>): boolean {
  if (exposed.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const type = exposed.get(base);
  return type === 'histogram' || (type === 'summary' && !name.endsWith('_bucket'));
}
