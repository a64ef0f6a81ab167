import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { typeOrmOptions, type EntityList } from './typeorm-options.js';

@Module({})
export class DatabaseModule {
  static forRoot(entities: EntityList): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({ ...typeOrmOptions(config.database, entities), retryAttempts: 30, retryDelay: 1_000 }),
        }),
      ],
      exports: [TypeOrmModule],
    };
  }
}
