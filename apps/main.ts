import type { INestApplication } from '@nestjs/common';
import { loadConfigOrExit } from '../libs/common/src/index.js';
import { startDocuments } from './documents/src/main.js';
import { startNotifier } from './notifier/src/main.js';
import { startRecurrence } from './recurrence/src/main.js';
import { startScheduler } from './scheduler/src/main.js';

/** All four services in one process, for development and small installs. */
loadConfigOrExit();
const apps: INestApplication[] = [];
for (const start of [startDocuments, startRecurrence, startNotifier, startScheduler]) apps.push(await start(false));

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    // The scheduler stops first so nothing new is published while consumers finish.
    void (async () => {
      for (const app of [...apps].reverse()) await app.close();
      process.exit(0);
    })();
  });
}
