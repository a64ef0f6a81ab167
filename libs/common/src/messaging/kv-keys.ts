import type { KV } from '@nats-io/kv';

/**
 * The keys of a KV bucket, listing for at most `maxMs`. nats.js lists keys with
 * an ordered consumer that ends on a message with nothing pending or on an idle
 * heartbeat; on a bucket written many times a second (the workers' heartbeats)
 * it was seen to go on for minutes. A read-only view takes what arrived by the
 * deadline (`complete: false`) rather than hang its caller.
 */
export async function listKvKeys(kv: KV, maxMs = 3_000): Promise<{ keys: string[]; complete: boolean }> {
  const iterator = await kv.keys('>');
  const keys: string[] = [];
  let complete = true;
  const timer = setTimeout(() => {
    complete = false;
    iterator.stop();
  }, maxMs);
  try {
    for await (const key of iterator) keys.push(key);
  } finally {
    clearTimeout(timer);
  }
  return { keys, complete };
}
