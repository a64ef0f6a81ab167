import { ensureDatabase, loadConfigOrExit } from '../libs/common/src/index.js';
import { createDataSource } from './data-source.js';

/** Creates the database if needed and runs pending migrations. */
const config = loadConfigOrExit();
await ensureDatabase(config.database.url);
const dataSource = createDataSource();
await dataSource.initialize();
const applied = await dataSource.runMigrations({ transaction: 'each' });
for (const m of applied) process.stdout.write(`migrated: ${m.name}\n`);
if (applied.length === 0) process.stdout.write('migrations: up to date\n');
await dataSource.destroy();
