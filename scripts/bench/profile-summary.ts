/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): top frames by self time and
 * time grouped by package, so a bench profile can be read without DevTools.
 * Usage: node dist/scripts/bench/profile-summary.js <file.cpuprofile> [top=25] [--window=from,to]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function where(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const m = /dist\/(.*)$/.exec(url);
  return m ? m[1].split('/').slice(0, 3).join('/') : url;
}

/**
 * `window` (seconds from the profile's start) restricts the summary to a phase,
 * e.g. the burn-down; the busiest stretch shows in the timeline printed first.
 */
export function summarise(file: string, top = 25, window?: [number, number]): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const idleIds = new Set(p.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const self = new Map<number, number>();
  const buckets: { busy: number; all: number }[] = [];
  let t = 0;
  p.samples.forEach((id, i) => {
    const d = p.timeDeltas[i] ?? 0;
    t += d;
    const b = Math.floor(t / 500_000);
    buckets[b] ??= { busy: 0, all: 0 };
    buckets[b].all += d;
    if (!idleIds.has(id)) buckets[b].busy += d;
    if (window && (t < window[0] * 1e6 || t > window[1] * 1e6)) return;
    self.set(id, (self.get(id) ?? 0) + d);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const frames = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const f = n.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${where(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    frames.set(name, (frames.get(name) ?? 0) + us);
    const pkg = f.functionName === '(idle)' ? '(idle)' : f.functionName === '(garbage collector)' ? '(gc)' : where(f.url);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const timeline = buckets.map((b, i) => `${(i / 2).toFixed(1)}s:${Math.round((100 * b.busy) / Math.max(1, b.all))}%`).join(' ');
  const lines = [
    `${file}: ${(total / 1e6).toFixed(2)} s sampled${window ? ` in window ${window[0]}–${window[1]} s` : ''}`,
    `busy share per 0.5 s: ${timeline}`,
    '',
    'by package / area (self time):',
  ];
  for (const [k, v] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, 15)) lines.push(`  ${pct(v)}  ${k}`);
  lines.push('', `top ${top} frames (self time):`);
  for (const [k, v] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(v)}  ${k}`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('profile-summary.js')) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist/scripts/bench/profile-summary.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const w = process.argv.find((a) => a.startsWith('--window='))?.slice(9).split(',').map(Number) as [number, number] | undefined;
  process.stdout.write(`${summarise(file, Number(process.argv[3] ?? 25), w)}\n`);
}
