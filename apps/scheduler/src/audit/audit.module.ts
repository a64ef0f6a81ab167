import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';

/** The audit log's read API; every service writes it through AuditLog (libs/common/src/audit). */
@Module({
  controllers: [AuditController],
})
export class AuditModule {}
