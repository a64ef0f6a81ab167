import { Controller, Inject, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  ContractRegistry,
  errorText,
  EVENT_TYPES,
  JetStreamContext,
  JetStreamServer,
  ROOT_LOGGER,
  type Logger,
} from '../../../../libs/common/src/index.js';
import { AnyDomainEvent } from './dto/any-domain-event.contract.js';
import { domainEvent } from './domain-event.js';
import { SchedulesService } from './schedules.service.js';

const REFRESH_MS = 15_000;
/** Types with a decorated handler of their own (TenantEventsConsumer), which passes them on to the event schedules itself. */
const HANDLED_ELSEWHERE: string[] = [EVENT_TYPES.tenantUpserted, EVENT_TYPES.documentSettingsChanged];

/**
 * Consumer `scheduler-events` (filter events.>): event-triggered schedules
 * (the tenant registry's events have their own handlers). Event types are open-ended,
 * so besides the decorated handler one handler per type is added at start for
 * every known event type and every type a schedule listens to: at once for
 * schedules created in this process, within REFRESH_MS for those created by
 * another replica (events of a type nobody listens to are acked and ignored).
 */
@Controller()
export class ScheduleEventsConsumer implements OnModuleInit, OnApplicationShutdown {
  private readonly handled = new Set<string>(HANDLED_ELSEWHERE);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly server: JetStreamServer,
    private readonly contracts: ContractRegistry,
    private readonly schedules: SchedulesService,
    @Inject(ROOT_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const type of Object.values(EVENT_TYPES)) this.ensureHandler(type);
    // Schedules created here are handled at once; other replicas pick them up at their next refresh.
    this.schedules.watchEventTypes((type) => this.ensureHandler(type));
    await this.refresh();
    const loop = () => {
      this.timer = setTimeout(() => void this.refresh().finally(loop), REFRESH_MS);
    };
    loop();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private async refresh(): Promise<void> {
    try {
      for (const type of await this.schedules.eventTypes()) this.ensureHandler(type);
    } catch (e) {
      this.logger.warn({ error: errorText(e) }, 'could not load event schedule types');
    }
  }

  /** Routes events of `type` to the event-triggered schedules. */
  ensureHandler(type: string): void {
    if (this.handled.has(type)) return;
    this.handled.add(type);
    if (!this.contracts.has(type)) this.contracts.register(type, AnyDomainEvent);
    this.server.addHandler(type, async (_payload: unknown, ctx: JetStreamContext) => {
      await this.schedules.onEvent(domainEvent(ctx));
    }, true);
  }
}
