import { bootstrapService } from '../../../libs/common/src/index.js';
import { RecurrenceModule } from './recurrence.module.js';

export function startRecurrence(shutdownHooks = true) {
  return bootstrapService(RecurrenceModule, { service: 'recurrence', port: (c) => c.ports.recurrence, shutdownHooks });
}

if (import.meta.url === `file://${process.argv[1]}`) await startRecurrence();
