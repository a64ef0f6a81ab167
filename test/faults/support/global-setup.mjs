import { rmSync } from 'node:fs';
import { join } from 'node:path';

/** A fresh rows file per run of the fault suite. */
export default async function globalSetup(config) {
  rmSync(join(config.rootDir, 'test', 'results', 'faults-rows.json'), { force: true });
  globalThis.__FAULTS_STARTED__ = Date.now();
}
