import { Injectable } from '@nestjs/common';
import { JobHandler } from '../../../libs/common/src/index.js';
import { RuntimeHarness } from '../runtime/runtime-support.js';

@Injectable()
class CyclicHandlers {
  @JobHandler('rt.left', { dependsOn: ['rt.right'] })
  left() {}

  @JobHandler('rt.right', { dependsOn: ['rt.left'] })
  right() {}
}

describe('declared job dependencies', () => {
  const h = new RuntimeHarness();
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  it('a worker whose handlers declare a dependency cycle refuses to start', async () => {
    await expect(h.app({ names: ['rt.left', 'rt.right'], providers: [CyclicHandlers] })).rejects.toThrow(
      /job dependency cycle refused: rt.left -> rt.right -> rt.left/,
    );
  });
});
