import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { typeOrmOptions, type EntityList } from './typeorm-options.js';

/** The entities of the service app being built (provided globally by MetronomeServiceModule). */
export const DATABASE_ENTITIES = Symbol('DATABASE_ENTITIES');

/**
 * One TypeORM root module definition per process, fed each app's entities
 * through DATABASE_ENTITIES. Each Nest application still gets its own
 * DataSource; defining the root once keeps @nestjs/typeorm's process-wide
 * name registry from warning "a data source with the default name is already
 * registered" when several service apps share a process (npm start, tests).
 */
const TYPEORM_ROOT = TypeOrmModule.forRootAsync({
  inject: [APP_CONFIG, DATABASE_ENTITIES],
  useFactory: (config: AppConfig, entities: EntityList) => ({ ...typeOrmOptions(config.database, entities), retryAttempts: 30, retryDelay: 1_000 }),
});

@Module({})
export class DatabaseModule {
  static forRoot(): DynamicModule {
    return { module: DatabaseModule, imports: [TYPEORM_ROOT], exports: [TypeOrmModule] };
  }
}
