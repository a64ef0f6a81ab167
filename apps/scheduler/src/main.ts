import { bootstrapService } from '../../../libs/common/src/index.js';
import { SchedulerModule } from './scheduler.module.js';

export function startScheduler(shutdownHooks = true) {
  return bootstrapService(SchedulerModule, { service: 'scheduler', port: (c) => c.ports.scheduler, shutdownHooks });
}

if (import.meta.url === `file://${process.argv[1]}`) await startScheduler();
