import { Global, Module } from '@nestjs/common';
import { FlowEnqueuer } from './flow-enqueuer.js';

/** FlowEnqueuer for producers of flows; import beside JobEnqueuerModule (it uses its outbox and relay). */
@Global()
@Module({ providers: [FlowEnqueuer], exports: [FlowEnqueuer] })
export class FlowsModule {}
