import { EventPattern } from '@nestjs/microservices';

/**
 * `@EventPattern(type)` for JetStream handlers. Nest 12 types event handlers as
 * `(data, ...args: unknown[])`, which rejects a typed `@Ctx() ctx: JetStreamContext`;
 * this keeps the same metadata with a plain method-decorator type.
 */
export function OnMessage(type: string): MethodDecorator {
  return EventPattern(type) as unknown as MethodDecorator;
}
