#!/usr/bin/env node
/**
 * Generates k8s/base/prometheus-rule.yaml (a PrometheusRule for the Prometheus Operator)
 * from observability/prometheus/alerts.yml, the one place the alerts are written.
 *
 *   node scripts/gen-prometheus-rule.mjs          write the PrometheusRule
 *   node scripts/gen-prometheus-rule.mjs --check  exit 1 if the committed file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = 'observability/prometheus/alerts.yml';
const target = 'k8s/base/prometheus-rule.yaml';

export function render(alertsYaml) {
  const rules = parse(alertsYaml);
  if (!rules || !Array.isArray(rules.groups)) throw new Error(`${source}: no "groups" list`);
  const resource = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'metronome', labels: { 'app.kubernetes.io/name': 'metronome' } },
    spec: { groups: rules.groups },
  };
  const header = [
    `# GENERATED from ${source} by scripts/gen-prometheus-rule.mjs - do not edit by hand.`,
    '# Your Prometheus must select it (ruleSelector); add the label it expects in your overlay.',
    '',
  ].join('\n');
  return header + stringify(resource, { lineWidth: 0, blockQuote: 'literal' });
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const expected = render(readFileSync(join(root, source), 'utf8'));
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(join(root, target), 'utf8');
    } catch {
      /* missing: out of date */
    }
    if (current !== expected) {
      console.error(`${target} is out of date: run node scripts/gen-prometheus-rule.mjs`);
      process.exit(1);
    }
    console.log(`${target} is up to date`);
  } else {
    writeFileSync(join(root, target), expected);
    console.log(`wrote ${target}`);
  }
}
