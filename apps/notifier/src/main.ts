import { bootstrapService } from '../../../libs/common/src/index.js';
import { NotifierModule } from './notifier.module.js';

export function startNotifier(shutdownHooks = true) {
  return bootstrapService(NotifierModule, { service: 'notifier', port: (c) => c.ports.notifier, shutdownHooks });
}

if (import.meta.url === `file://${process.argv[1]}`) await startNotifier();
