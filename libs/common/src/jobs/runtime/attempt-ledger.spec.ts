import { attemptOf, EMPTY_LEDGER } from './attempt-ledger.js';

describe('attemptOf', () => {
  it('is the delivery count on a clean first delivery', () => {
    expect(attemptOf(1, EMPTY_LEDGER)).toEqual({ attempt: 1, lost: [] });
  });

  it('does not count deferrals as attempts', () => {
    // delivered 4 times: deferred (paused) three times, each noted; this is attempt 1
    expect(attemptOf(4, { deferrals: 3, settled: 3 })).toEqual({ attempt: 1, lost: [] });
  });

  it('counts a failed attempt settled by nak', () => {
    expect(attemptOf(2, { deferrals: 0, settled: 1 })).toEqual({ attempt: 2, lost: [] });
  });

  it('records deliveries that never came back as lost attempts', () => {
    // no ledger at all: the first delivery's worker died
    expect(attemptOf(2, EMPTY_LEDGER)).toEqual({ attempt: 2, lost: [1] });
    // deferred once (delivery 1), then deliveries 2 and 3 lost, now delivery 4
    expect(attemptOf(4, { deferrals: 1, settled: 1 })).toEqual({ attempt: 3, lost: [1, 2] });
  });

  it('adds the attempts a re-published run already used', () => {
    expect(attemptOf(1, EMPTY_LEDGER, 3)).toEqual({ attempt: 4, lost: [] });
    expect(attemptOf(2, EMPTY_LEDGER, 3)).toEqual({ attempt: 5, lost: [4] });
  });
});
