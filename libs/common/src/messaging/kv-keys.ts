import type { JetStreamManager } from '@nats-io/jetstream';

/**
 * The keys of a KV bucket, from its stream's per-subject state (one stream info
 * request, paged by nats.js for many subjects). nats.js's `kv.keys()` lists with
 * an ordered consumer instead: on a bucket written many times a second (the
 * workers' heartbeats) it went on for minutes, and cutting it off at a deadline
 * returned an empty or partial list under load. Deleted keys whose marker is
 * still kept are listed too; a `kv.get` on them answers DEL.
 */
export async function listKvKeys(jsm: JetStreamManager, bucket: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length));
}
