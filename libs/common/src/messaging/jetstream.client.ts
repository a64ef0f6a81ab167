import { Injectable } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { EventPublisher } from './event-publisher.js';
import { NatsConnectionService } from './nats-connection.service.js';

export interface EmitData {
  companyId: string;
  data: unknown;
  /** Event id; repeats within the dedup window are stored once. */
  id?: string;
}

/**
 * `ClientProxy`-shaped publisher: `client.emit(type, { companyId, data })`
 * publishes a CloudEvent and completes once JetStream stored it.
 * Request-response is not offered: JetStream is for events.
 */
@Injectable()
export class JetStreamClient extends ClientProxy {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly nats: NatsConnectionService,
  ) {
    super();
  }

  async connect(): Promise<unknown> {
    return this.nats.connection$();
  }

  close(): void {
    // The connection belongs to NatsConnectionService, which drains it on shutdown.
  }

  unwrap<T>(): T {
    return this.nats as T;
  }

  on(): never {
    throw new Error('JetStreamClient has no event listeners');
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('JetStreamClient supports emit() only: JetStream carries events, not requests'), isDisposed: true });
    return () => undefined;
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket<EmitData>): Promise<T> {
    const type = typeof packet.pattern === 'string' ? packet.pattern : JSON.stringify(packet.pattern);
    const { companyId, data, id } = packet.data;
    return (await this.publisher.publishEvent(type, companyId, data, { id })) as T;
  }
}
