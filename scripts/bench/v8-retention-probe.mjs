/**
 * `npm run bench:v8-probe`: what V8 promotes to old space when a long-lived
 * collection churns with short-lived jobs (≈ 30 KB each, 1,000 a second, each
 * held 2-17 ms), per way of keeping the running ones:
 *
 *   array          push + swap-remove (the control)
 *   map, set       Map.set/delete, Set.add/delete
 *   weakmap        WeakMap.set, entry left for the GC (its value holds its key)
 *   weakmap-delete WeakMap.set, then delete when the job ends
 *
 * Each mode runs in its own `node --trace-gc-nvp --expose-gc` child for 10 s,
 * after one full GC that puts the collection in old space (as a real
 * worker's is), and prints the MB its scavenges promoted (the jobs themselves
 * are ≈ 300 MB). On Node 20, varying run to run, map and set promote
 * 10-110 MB (V8 allocates the tables that replace an old-space Map/Set table
 * in old space as well, and links each replaced table to its successor, so the
 * jobs those dead tables hold ride every scavenge), weakmap 25-190 MB (an
 * old-space WeakMap entry keeps its value, and so its key, through
 * scavenges), array and weakmap-delete ≈ nothing.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MODES = ['array', 'map', 'set', 'weakmap', 'weakmap-delete'];
const SECONDS = 10;

function job(mode, keep, id) {
  const key = { id };
  const payload = Array.from({ length: 300 }, (_, i) => ({ i, s: `x${i}` }));
  const record = { key, payload };
  let forget;
  switch (mode) {
    case 'array': {
      const entry = { record, at: keep.length };
      keep.push(entry);
      forget = () => {
        const last = keep.pop();
        if (last !== entry) {
          keep[entry.at] = last;
          last.at = entry.at;
        }
      };
      break;
    }
    case 'map':
      keep.set(id, record);
      forget = () => keep.delete(id);
      break;
    case 'set':
      keep.add(record);
      forget = () => keep.delete(record);
      break;
    case 'weakmap':
      keep.set(key, record);
      forget = () => undefined;
      break;
    case 'weakmap-delete':
      keep.set(key, record);
      forget = () => keep.delete(key);
      break;
  }
  setTimeout(forget, 2 + Math.random() * 15);
}

function child(mode) {
  const keep = mode === 'array' ? [] : mode === 'map' ? new Map() : mode === 'set' ? new Set() : new WeakMap();
  let id = 0;
  for (let i = 0; i < 5; i++) job(mode, keep, id++);
  globalThis.gc();
  const end = Date.now() + SECONDS * 1000;
  const tick = setInterval(() => {
    for (let i = 0; i < 10; i++) job(mode, keep, id++);
    if (Date.now() > end) clearInterval(tick);
  }, 10);
}

function parent() {
  const self = fileURLToPath(import.meta.url);
  console.log(`mode            promoted by scavenges in ${SECONDS} s`);
  for (const mode of MODES) {
    const run = spawnSync(process.execPath, ['--expose-gc', '--trace-gc-nvp', self, mode], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (run.status !== 0) throw new Error(`${mode}: ${run.stderr}`);
    let promoted = 0;
    for (const line of run.stdout.split('\n')) {
      if (!line.includes(' gc=s ')) continue;
      const m = / promoted=(\d+)/.exec(line);
      if (m) promoted += Number(m[1]);
    }
    console.log(`${mode.padEnd(15)} ${(promoted / 1024 / 1024).toFixed(1).padStart(7)} MB`);
  }
}

const mode = process.argv[2];
if (mode) child(mode);
else parent();
