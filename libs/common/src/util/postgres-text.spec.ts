import { describe, expect, it } from '@jest/globals';
import { postgresText } from './postgres-text.js';

describe('postgresText', () => {
  it('replaces every NUL with U+FFFD and leaves other text as it is', () => {
    expect(postgresText('a\u0000b\u0000')).toBe('a\uFFFDb\uFFFD');
    const plain = 'tab\tnewline\n ✓ \u0001';
    expect(postgresText(plain)).toBe(plain);
  });
});
