import { BaseRpcContext } from '@nestjs/microservices';
import type { JsMsg } from '@nats-io/jetstream';
import type { CloudEvent } from './cloud-event.js';

/** What `@Ctx()` gives a handler: the JetStream message and its envelope. */
export class JetStreamContext extends BaseRpcContext<[JsMsg, CloudEvent]> {
  constructor(
    readonly message: JsMsg,
    readonly event: CloudEvent,
    readonly consumer: string,
  ) {
    super([message, event]);
  }

  get subject(): string {
    return this.message.subject;
  }

  /** 1 on the first delivery. */
  get deliveryCount(): number {
    return this.message.info.deliveryCount;
  }

  /** The event id, which is also the Nats-Msg-Id and, for jobs, the run id. */
  get eventId(): string {
    return this.event.id;
  }

  get companyId(): string | undefined {
    return this.event.companyid;
  }

  header(name: string): string | undefined {
    return this.message.headers?.get(name) || undefined;
  }

  /** Resets the ack wait: call it from long handlers. */
  working(): void {
    this.message.working();
  }
}
