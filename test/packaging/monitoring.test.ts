/**
 * The monitoring files in deploy/ — Prometheus alerting rules and scrape job, the Grafana dashboard — read as
 * Prometheus and Grafana read them, and held to the metric names the proxy exports (src/admin/metric-names.ts)
 * and prom-client's default metrics: a renamed metric must not leave an alert that can never fire or a panel
 * that stays empty. Also the Home Assistant add-on's ingress, which must reach the admin listener.
 * `promtool check rules` runs too where promtool is installed (it is not in CI).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { METRIC_NAMES } from '../../src/admin/metric-names.js';
import { handshakeResult } from '../../src/admin/observer.js';
import { resolveConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { ErrorCode } from '../../src/errors.js';
import { validateHaOptions, type HaSchema } from './ha-options.js';

const ROOT = new URL('../../', import.meta.url);
const ALERTS = new URL('deploy/prometheus/alerts.yml', ROOT);
const PROMETHEUS = new URL('deploy/prometheus/prometheus.yml', ROOT);
const GRAFANA = new URL('deploy/grafana/ocpp-splitter.json', ROOT);
const text = (url: URL): string => readFileSync(url, 'utf8');

/** Names the issue asks both files to use, so that neither can pass by using no metric at all. */
const REQUIRED = ['ocpp_splitter_secondary_links_connected', 'ocpp_splitter_outbox_oldest_age_seconds', 'ocpp_splitter_handshakes_total'];
/** Series Prometheus derives from one histogram. */
const HISTOGRAM_SUFFIX = /_(?:bucket|sum|count)$/;
/** Prometheus' duration grammar (model.ParseDuration), as `for:` takes it. */
const DURATION = /^(?:\d+y)?(?:\d+w)?(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?$/;
const SEVERITIES = ['warning', 'critical'];
const DATASOURCE_INPUT = '${DS_PROMETHEUS}';
/** Grafana's own variables, which a dashboard does not declare. */
const GRAFANA_BUILTINS = new Set(['__rate_interval', '__interval', '__range', '__interval_ms', '__range_s']);

/** Every exported metric an expression names, histogram series folded into their histogram. */
function proxyMetricsIn(expression: string): string[] {
  return [...expression.matchAll(/\bocpp_splitter_[a-z_]+/g)].map(([name]) => name.replace(HISTOGRAM_SUFFIX, ''));
}

/** Every `result` label value of handshakes_total: accepted, or a refusal's error code in words. */
const HANDSHAKE_RESULTS = new Set([handshakeResult('accepted', undefined), ...Object.values(ErrorCode).map((code) => handshakeResult('refused', code))]);

/** The `result` values an expression matches on (`result="x"`, `result=~"x|y"`, and the negations). */
function handshakeResultsIn(expression: string): string[] {
  return [...expression.matchAll(/\bresult\s*(?:=~|!~|!=|=)\s*"([^"]*)"/g)].flatMap(([, values]) => (values ?? '').split('|'));
}

/** prom-client's default metrics (process_*, nodejs_*), as the proxy's registry exports them. */
function defaultMetricNames(): Set<string> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return new Set(registry.getMetricsAsArray().map((metric) => metric.name));
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what}: expected a mapping`);
  return value as Record<string, unknown>;
}

function asList(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a list`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// Prometheus

interface AlertRule {
  alert: string;
  expr: string;
  for: unknown;
  labels: Record<string, unknown>;
  annotations: Record<string, unknown>;
}

/** The rule file as Prometheus loads it (rulefmt): groups of uniquely named groups, each a list of rules. */
function readAlertRules(): AlertRule[] {
  const file = asRecord(parseYaml(text(ALERTS)), 'alerts.yml');
  expect(Object.keys(file)).toEqual(['groups']);
  const groups = asList(file.groups, 'groups').map((group, index) => asRecord(group, `groups[${String(index)}]`));
  expect(groups.length).toBeGreaterThan(0);
  const groupNames = groups.map((group) => group.name);
  expect(new Set(groupNames).size, 'group names are unique').toBe(groupNames.length);
  return groups.flatMap((group) =>
    asList(group.rules, `group ${String(group.name)}: rules`).map((raw, index) => {
      const rule = asRecord(raw, `${String(group.name)}.rules[${String(index)}]`);
      for (const key of Object.keys(rule)) expect(['alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations'], `${String(rule.alert)}: ${key}`).toContain(key);
      if (typeof rule.alert !== 'string' || typeof rule.expr !== 'string') throw new Error(`${String(group.name)}.rules[${String(index)}]: an alert needs alert and expr`);
      return {
        alert: rule.alert,
        expr: rule.expr,
        for: rule.for,
        labels: asRecord(rule.labels ?? {}, `${rule.alert}: labels`),
        annotations: asRecord(rule.annotations ?? {}, `${rule.alert}: annotations`),
      };
    }),
  );
}

const rules = readAlertRules();
const prometheusConfig = asRecord(parseYaml(text(PROMETHEUS)), 'prometheus.yml');

describe('deploy/prometheus/alerts.yml', () => {
  it('is a Prometheus rule file of uniquely named alerts', () => {
    expect(rules.length).toBeGreaterThanOrEqual(6);
    const names = rules.map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('%s has a `for`, a severity, a summary and a description', (_name, rule) => {
    expect(typeof rule.for, 'for').toBe('string');
    expect(String(rule.for)).toMatch(DURATION);
    expect(SEVERITIES).toContain(rule.labels.severity);
    for (const key of ['summary', 'description']) {
      const annotation = rule.annotations[key];
      expect(typeof annotation, key).toBe('string');
      expect(String(annotation).trim().length, key).toBeGreaterThan(10);
    }
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('%s uses only metrics the proxy exports', (_name, rule) => {
    for (const name of proxyMetricsIn(rule.expr)) expect(METRIC_NAMES, `${rule.alert}: ${name}`).toContain(name);
  });

  it('matches handshakes_total only on results the proxy reports (a misspelt one would never match)', () => {
    const used = rules.flatMap((rule) => handshakeResultsIn(rule.expr));
    expect(used).toContain('refused_by_primary');
    for (const result of used) expect(HANDSHAKE_RESULTS, result).toContain(result);
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('%s names in its annotations only labels its expression keeps', (_name, rule) => {
    // The left-most aggregation gives the alert its labels (`and`/`unless` keep the left side's).
    const kept = /\bby\s*\(([^)]*)\)/.exec(rule.expr)?.[1]?.split(',').map((label) => label.trim());
    if (kept === undefined) return;
    const used = Object.values(rule.annotations).flatMap((annotation) => [...String(annotation).matchAll(/\$labels\.(\w+)/g)].map((match) => match[1]));
    for (const label of used) expect(kept, `${rule.alert}: $labels.${String(label)}`).toContain(label);
  });

  it('watches what the issue asks for: secondaries down, old backlogs, primary refusals, drops, store errors, the proxy down', () => {
    const all = rules.map((rule) => rule.expr).join('\n');
    const used = new Set(proxyMetricsIn(all));
    for (const name of [...REQUIRED, 'ocpp_splitter_chargers_connected', 'ocpp_splitter_mirror_dropped_total', 'ocpp_splitter_store_errors_total']) {
      expect(used, name).toContain(name);
    }
    expect(all).toMatch(/\bup\{job="[^"]+"\} == 0/);
    const backlog = rules.filter((rule) => rule.expr.includes('ocpp_splitter_outbox_oldest_age_seconds'));
    expect(backlog.map((rule) => rule.labels.severity).sort()).toEqual(['critical', 'warning']);
    for (const rule of backlog) expect(String(rule.annotations.description), rule.alert).toMatch(/billing at risk/i);
  });

  const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  it.skipIf(promtool.error !== undefined)('passes `promtool check rules`', () => {
    const result = spawnSync('promtool', ['check', 'rules', fileURLToPath(ALERTS)], { encoding: 'utf8' });
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });
});

describe('deploy/prometheus/prometheus.yml', () => {
  const scrapeConfigs = asList(prometheusConfig.scrape_configs, 'scrape_configs').map((entry, index) => asRecord(entry, `scrape_configs[${String(index)}]`));
  const job = scrapeConfigs.find((entry) => entry.job_name === 'ocpp-splitter');

  it('loads alerts.yml from beside it', () => {
    const ruleFiles = asList(prometheusConfig.rule_files, 'rule_files');
    expect(ruleFiles).toContain('alerts.yml');
    for (const file of ruleFiles) expect(existsSync(new URL(String(file), PROMETHEUS)), String(file)).toBe(true);
  });

  it('scrapes /metrics of the admin listener\'s default address, with the Bearer token from a file', () => {
    if (job === undefined) throw new Error('no scrape job ocpp-splitter');
    const defaultPort = configSchema.shape.admin_port.parse(undefined);
    expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    const targets = asList(job.static_configs, 'static_configs').flatMap((entry) => asList(asRecord(entry, 'static_config').targets, 'targets'));
    expect(targets).toEqual([`localhost:${String(defaultPort)}`]);
    // The token never sits in the config itself: `credentials` would put it there.
    expect(job.authorization).toEqual({ type: 'Bearer', credentials_file: expect.stringMatching(/^\/\S+$/) as unknown });
  });

  it('has the job name OcppSplitterDown watches', () => {
    const down = rules.find((rule) => /\bup\{/.test(rule.expr));
    expect(down?.expr).toContain(`up{job="${String(job?.job_name)}"}`);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Grafana

interface Target {
  expr?: unknown;
  refId?: unknown;
  datasource?: { uid?: unknown };
}

interface Panel {
  id?: unknown;
  type?: unknown;
  title?: unknown;
  datasource?: { uid?: unknown; type?: unknown };
  gridPos?: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
  collapsed?: boolean;
}

interface Dashboard {
  __inputs?: Array<{ name?: unknown; type?: unknown; pluginId?: unknown }>;
  schemaVersion?: unknown;
  title?: unknown;
  uid?: unknown;
  panels?: Panel[];
  templating?: { list?: Array<{ name?: unknown; datasource?: { uid?: unknown }; query?: unknown; definition?: unknown }> };
}

const dashboard = JSON.parse(text(GRAFANA)) as Dashboard;
/** Every panel, those inside collapsed rows too. */
const allPanels: Panel[] = (dashboard.panels ?? []).flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const dataPanels = allPanels.filter((panel) => panel.type !== 'row');
const expressions = dataPanels.flatMap((panel) => (panel.targets ?? []).map((target) => String(target.expr)));

describe('deploy/grafana/ocpp-splitter.json', () => {
  it('is a dashboard to import, asking for its Prometheus data source as DS_PROMETHEUS', () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    expect(Number(dashboard.schemaVersion)).toBeGreaterThanOrEqual(36);
    expect(dashboard.title).toBe('ocpp-splitter');
    expect(typeof dashboard.uid).toBe('string');
    expect(dataPanels.length).toBeGreaterThanOrEqual(12);
  });

  it('gives every panel a unique id, a place on the 24-column grid, and no overlap', () => {
    const ids = allPanels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const taken = new Set<string>();
    for (const panel of allPanels) {
      const grid = panel.gridPos;
      if (grid === undefined) throw new Error(`${String(panel.title)}: no gridPos`);
      expect(grid.x + grid.w, String(panel.title)).toBeLessThanOrEqual(24);
      // Panels inside a collapsed row are laid out when it opens; only the visible grid must not overlap.
      if (!(dashboard.panels ?? []).includes(panel)) continue;
      for (let row = grid.y; row < grid.y + grid.h; row += 1) {
        for (let column = grid.x; column < grid.x + grid.w; column += 1) {
          const cell = `${String(row)},${String(column)}`;
          expect(taken.has(cell), `${String(panel.title)} overlaps at ${cell}`).toBe(false);
          taken.add(cell);
        }
      }
    }
  });

  it.each(dataPanels.map((panel) => [String(panel.title), panel] as const))('panel "%s" queries DS_PROMETHEUS with an expression', (_title, panel) => {
    expect(panel.datasource?.uid).toBe(DATASOURCE_INPUT);
    const targets = panel.targets ?? [];
    expect(targets.length).toBeGreaterThan(0);
    for (const target of targets) {
      expect(typeof target.expr).toBe('string');
      expect(String(target.expr).trim()).not.toBe('');
      expect(typeof target.refId).toBe('string');
      expect(target.datasource?.uid).toBe(DATASOURCE_INPUT);
    }
  });

  it('uses only metrics the proxy exports, and shows every one of them', () => {
    const used = new Set(expressions.flatMap(proxyMetricsIn));
    for (const name of used) expect(METRIC_NAMES, name).toContain(name);
    for (const name of [...REQUIRED, ...METRIC_NAMES]) expect(used, name).toContain(name);
  });

  it('matches handshakes_total only on results the proxy reports', () => {
    for (const result of expressions.flatMap(handshakeResultsIn)) expect(HANDSHAKE_RESULTS, result).toContain(result);
  });

  it('uses prom-client\'s default metrics by their real names (CPU, memory, event-loop lag)', () => {
    const defaults = defaultMetricNames();
    const used = new Set(expressions.flatMap((expression) => [...expression.matchAll(/\b(?:process|nodejs)_[a-z0-9_]+/g)].map(([name]) => name)));
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes']) expect(used, name).toContain(name);
    expect([...used].some((name) => name.startsWith('nodejs_eventloop_lag'))).toBe(true);
    for (const name of used) expect(defaults, name).toContain(name);
  });

  it('shows the primary call duration as p50, p95 and p99 of the histogram', () => {
    const quantiles = expressions
      .filter((expression) => expression.includes('ocpp_splitter_primary_call_duration_seconds_bucket'))
      .map((expression) => /histogram_quantile\((0\.\d+),/.exec(expression)?.[1]);
    expect(quantiles.sort()).toEqual(['0.5', '0.95', '0.99']);
  });

  it('declares every variable its queries use, each from the same data source', () => {
    const variables = dashboard.templating?.list ?? [];
    const declared = new Set(variables.map((variable) => variable.name));
    const queries = [...expressions, ...variables.map((variable) => String(variable.definition))];
    for (const [, name] of queries.flatMap((query) => [...query.matchAll(/\$(\w+)/g)])) {
      if (!GRAFANA_BUILTINS.has(String(name))) expect(declared, `$${String(name)}`).toContain(name);
    }
    for (const variable of variables) expect(variable.datasource?.uid, String(variable.name)).toBe(DATASOURCE_INPUT);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Home Assistant ingress

describe('ocpp-splitter/config.yaml: the dashboard through Home Assistant ingress', () => {
  const ADDON = new URL('ocpp-splitter/', ROOT);
  const manifest = asRecord(parseYaml(text(new URL('config.yaml', ADDON))), 'config.yaml');
  const translations = asRecord(parseYaml(text(new URL('translations/en.yaml', ADDON))), 'en.yaml');
  const environment = asRecord(manifest.environment, 'environment');
  /** The Supervisor's ingress proxy, the only caller the add-on serves without a token. */
  const SUPERVISOR = '172.30.32.2';

  /** The config the add-on's proxy starts with: its `environment`, the form's options as saved, /data. */
  function asTheAddonStarts(changed: Record<string, unknown>) {
    const options = { ...asRecord(manifest.options, 'options'), ...changed };
    const { options: validated } = validateHaOptions(manifest.schema as Record<string, HaSchema>, options);
    const env: Record<string, string> = { CONFIG_FILE: '/data/options.json', DATA_DIR: '/data' };
    for (const [name, value] of Object.entries(environment)) env[name] = String(value);
    return resolveConfig({ flags: {}, env, readFile: () => JSON.stringify(validated) }).config;
  }

  it('turns on ingress to the admin listener\'s port, with a sidebar panel for admins', () => {
    expect(manifest).toMatchObject({ ingress: true, panel_admin: true });
    expect(String(manifest.panel_icon)).toMatch(/^mdi:[a-z-]+$/);
    expect(typeof manifest.panel_title).toBe('string');
    expect(manifest.ingress_port).toBe(Number(environment.ADMIN_PORT));
  });

  it('gives the Supervisor string environment values (its schema takes nothing else)', () => {
    for (const [name, value] of Object.entries(environment)) expect(typeof value, name).toBe('string');
  });

  it('starts the proxy listening where ingress connects, trusting the Supervisor alone, without a token', () => {
    const config = asTheAddonStarts({ primary_csms_url: 'wss://csms.example.com/ocpp' });
    expect(config.admin_port).toBe(manifest.ingress_port);
    expect(config.admin_host).toBe('0.0.0.0');
    expect(config.admin_trusted_addresses).toEqual([SUPERVISOR]);
    expect(config.admin_token).toBeUndefined();
  });

  it('passes admin_token and metrics_per_charger from the Configuration tab to the proxy', () => {
    const token = 'a-token-of-32-characters-exactly';
    const config = asTheAddonStarts({ primary_csms_url: 'wss://csms.example.com/ocpp', admin_token: token, metrics_per_charger: true });
    expect(config).toMatchObject({ admin_token: token, metrics_per_charger: true });
  });

  it('leaves the admin port unpublished until the user maps it, and describes it', () => {
    expect(asRecord(manifest.ports, 'ports')['9001/tcp']).toBeNull();
    expect(asRecord(manifest.ports_description, 'ports_description')['9001/tcp']).toMatch(/admin_token/);
    expect(asRecord(translations.network, 'network')['9001/tcp']).toMatch(/admin_token/);
  });

  it('DOCS.md explains the sidebar, the trusted Supervisor address and publishing the port for Prometheus', () => {
    const docs = text(new URL('DOCS.md', ADDON));
    const section = docs.split(/^## /m).find((part) => part.startsWith('Dashboard and metrics\n'));
    if (section === undefined) throw new Error('DOCS.md: no "## Dashboard and metrics"');
    for (const phrase of ['sidebar', SUPERVISOR, 'admin_token', '9001', '/metrics', 'Authorization: Bearer']) expect(section, phrase).toContain(phrase);
  });
});
