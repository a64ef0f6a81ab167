import { Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { createRootLogger, type Logger } from './logger.js';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
export const SERVICE_NAME = Symbol('SERVICE_NAME');

@Global()
@Module({
  providers: [
    {
      provide: ROOT_LOGGER,
      inject: [APP_CONFIG, SERVICE_NAME],
      useFactory: (config: AppConfig, service: string): Logger => createRootLogger(config.logLevel, service),
    },
  ],
  exports: [ROOT_LOGGER],
})
export class LoggingModule {}
