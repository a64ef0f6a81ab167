import { DataSource } from 'typeorm';
import { DeadLetterEntity, loadConfigOrExit, typeOrmOptions } from '../libs/common/src/index.js';
import { DOCUMENTS_ENTITIES } from '../apps/documents/src/documents.entities.js';
import { SCHEDULER_ENTITIES } from '../apps/scheduler/src/scheduler.entities.js';
import { NOTIFIER_ENTITIES } from '../apps/notifier/src/notifier.entities.js';
import { RECURRENCE_ENTITIES } from '../apps/recurrence/src/recurrence.entities.js';
import { MIGRATIONS } from '../migrations/index.js';

/** The data source the TypeORM CLI and the migrate script use: every service's entities and all migrations. */
export const ALL_ENTITIES = [DeadLetterEntity, ...DOCUMENTS_ENTITIES, ...SCHEDULER_ENTITIES, ...NOTIFIER_ENTITIES, ...RECURRENCE_ENTITIES];

export function createDataSource(): DataSource {
  const config = loadConfigOrExit();
  return new DataSource(typeOrmOptions(config.database, ALL_ENTITIES, MIGRATIONS));
}

export default createDataSource();
