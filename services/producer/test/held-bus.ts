// The real in-memory bus with a gate in front of produce: a test holds it shut to play a
// broker that does not confirm (an outage, an overloaded cluster), then opens it.
import { MemoryBus, type OutgoingRecord } from '@ehr/bus';

export class HeldBus extends MemoryBus {
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  /** Produce calls waiting at the gate. */
  waiting = 0;

  hold(): void {
    this.gate ??= new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }

  override async produce(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    while (this.gate) {
      this.waiting++;
      await this.gate.finally(() => this.waiting--);
    }
    return super.produce(topic, records);
  }
}
