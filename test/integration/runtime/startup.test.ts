import { Injectable } from '@nestjs/common';
import { JobHandler, type JobContext } from '../../../libs/common/src/index.js';
import { JOB, ProbeHandlers, RuntimeHarness } from './runtime-support.js';

@Injectable()
@JobHandler(JOB.work)
class SecondWorkHandler implements JobHandler {
  async handle(_ctx: JobContext): Promise<void> {}
}

describe('job runtime: start-up checks', () => {
  const h = new RuntimeHarness();
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  it('refuses to start when a declared job has no handler', async () => {
    await expect(h.app({ names: [JOB.work, JOB.slow, JOB.hold, JOB.fragile, 'rt.missing'] })).rejects.toThrow(/job "rt.missing" is declared but has no @JobHandler/);
  });

  it('refuses to start when a job has two handlers (a method and a class)', async () => {
    await expect(h.app({ providers: [ProbeHandlers, SecondWorkHandler] })).rejects.toThrow(/job "rt.work" has 2 handlers: ProbeHandlers.work, SecondWorkHandler/);
  });

  it('refuses a handler for a job the service does not declare', async () => {
    await expect(h.app({ names: [JOB.work, JOB.slow, JOB.hold] })).rejects.toThrow(/@JobHandler "rt.fragile" \(ProbeHandlers.fragile\) is not in this service's job list/);
  });
});
