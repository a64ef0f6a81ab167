import { Injectable } from '@nestjs/common';

/**
 * The time the documents service believes it is. Production reads the system
 * clock; tests provide their own so thresholds and escalations can be walked
 * through days without sleeping.
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
