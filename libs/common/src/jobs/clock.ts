import { Injectable } from '@nestjs/common';

/**
 * The time the scheduler believes it is. Production uses the system clock;
 * tests inject a ManualClock to walk through DST changes and outages without
 * waiting for them. Everything that decides "is this due" reads it.
 */
export abstract class Clock {
  abstract now(): Date;
}

@Injectable()
export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** A clock that only moves when told to. */
export class ManualClock extends Clock {
  private ms: number;

  constructor(start: Date | string | number) {
    super();
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(to: Date | string | number): void {
    this.ms = new Date(to).getTime();
  }

  advance(ms: number): Date {
    this.ms += ms;
    return this.now();
  }
}
