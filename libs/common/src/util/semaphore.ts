/** Bounds how many handlers run at once. */
export class Semaphore {
  private waiters: (() => void)[] = [];
  private active = 0;

  constructor(private readonly limit: number) {}

  get inUse(): number {
    return this.active;
  }

  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.active--;
  }

  /** Resolves when nothing holds a slot. */
  async idle(): Promise<void> {
    while (this.active > 0) await new Promise((r) => setTimeout(r, 10));
  }
}
