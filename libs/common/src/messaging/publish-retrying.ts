import type { Logger } from '../logging/logger.js';
import { errorText } from './errors.js';
import type { EventPublisher } from './event-publisher.js';

const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];

/**
 * Publishes an event the caller must not wait on or fail for (an alert about a
 * failure that is already recorded): the first try is awaited, a failure is
 * retried in the background with the same id (so JetStream keeps one) and
 * logged. Never throws.
 */
export async function publishRetrying(
  publisher: EventPublisher,
  log: Logger,
  event: { type: string; companyId: string; data: object; id: string },
): Promise<boolean> {
  const attempt = () => publisher.publishEvent(event.type, event.companyId, event.data, { id: event.id });
  try {
    await attempt();
    return true;
  } catch (e) {
    log.warn({ type: event.type, id: event.id, error: errorText(e) }, 'could not publish the event; retrying in the background');
  }
  void (async () => {
    for (const delay of RETRY_DELAYS_MS) {
      await new Promise((r) => setTimeout(r, delay).unref());
      try {
        await attempt();
        return;
      } catch {
        // next delay
      }
    }
    log.error({ type: event.type, id: event.id }, 'gave up publishing the event');
  })();
  return false;
}
