import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import {
  CONSUMER_DECLARATIONS,
  KV_DECLARATIONS,
  loadConfigOrExit,
  natsConnectionOptions,
  provision,
  STREAM_DECLARATIONS,
} from '../libs/common/src/index.js';

/** Creates missing streams, consumers and KV buckets; reports (never rewrites) ones that differ. Exit 2 on drift. */
const config = loadConfigOrExit();
const nc = await connect({ ...natsConnectionOptions(config.nats), waitOnFirstConnect: false, maxReconnectAttempts: 5 });
const report = await provision(await jetstreamManager(nc), STREAM_DECLARATIONS, CONSUMER_DECLARATIONS, {
  replicas: config.nats.streamReplicas,
  ackWaitMs: config.ackWaitMs,
  kv: KV_DECLARATIONS,
});
for (const c of report.created) process.stdout.write(`created   ${c}\n`);
for (const u of report.unchanged) process.stdout.write(`unchanged ${u}\n`);
for (const d of report.drift) process.stdout.write(`DRIFT     ${d.name}\n${d.differences.map((x) => `            ${x}`).join('\n')}\n`);
await nc.drain();
process.exit(report.drift.length ? 2 : 0);
