import type { INestApplication } from '@nestjs/common';
import type { TestingModuleBuilder } from '@nestjs/testing';
import { connectJetStream } from '../../libs/common/src/index.js';

/** A service module in this process as it runs in production: JetStream consumers connected, HTTP on a free loopback port. */
export async function startServiceApp(builder: TestingModuleBuilder): Promise<{ app: INestApplication; baseUrl: string }> {
  const app = (await builder.compile()).createNestApplication({ logger: false });
  await connectJetStream(app);
  await app.listen(0, '127.0.0.1');
  return { app, baseUrl: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
