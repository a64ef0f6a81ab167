import type { DataSourceOptions, MixedList } from 'typeorm';
import type { DatabaseConfig } from '../config/config.schema.js';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = MixedList<Function>;

/** Postgres options shared by the services and the migration CLI. Never synchronize: migrations own the schema. */
export function typeOrmOptions(db: DatabaseConfig, entities: EntityList, migrations: EntityList = []): DataSourceOptions {
  return {
    type: 'postgres',
    url: db.url,
    entities,
    migrations,
    synchronize: false,
    migrationsTableName: 'typeorm_migrations',
    extra: { max: db.poolSize, application_name: 'metronome' },
  };
}
