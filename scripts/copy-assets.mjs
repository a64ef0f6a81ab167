// Copies static files the build needs next to the compiled code (tsc copies only .ts output):
// the scheduler's dashboard (apps/scheduler/src/dashboard/public -> dist/apps/scheduler/src/dashboard/public).
import { cpSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = ['apps/scheduler/src/dashboard/public'];

for (const dir of ASSETS) {
  const from = join(root, dir);
  if (!existsSync(from)) continue;
  cpSync(from, join(root, 'dist', dir), { recursive: true });
}
