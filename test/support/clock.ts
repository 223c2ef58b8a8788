/** A clock the test moves by hand. */
export class Clock {
  constructor(public t: number) {}
  now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}
