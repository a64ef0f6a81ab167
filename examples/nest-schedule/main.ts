import { bootstrapService } from '../../libs/common/src/index.js';
import { REPORTS_SERVICE, ReportsModule } from './reports.module.js';

/** node dist/examples/nest-schedule/main.js [port]: the reports service on its own (docs/scheduler.md). */
if (import.meta.url === `file://${process.argv[1]}`) {
  await bootstrapService(ReportsModule, { service: REPORTS_SERVICE, port: () => Number(process.argv[2] ?? 0) });
}
