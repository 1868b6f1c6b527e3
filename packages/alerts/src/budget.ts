// A daily alert budget per unit: a ward staffs a number of reviews a day (Kaiser's Advance
// Alert Monitor runs at about one new alert per 35 patients a day), so once a unit's alerts
// for the calendar day are spent, further medium alerts wait for the next day; a high one
// still goes through when the policy says so, and counts.
import type { SeverityBand } from '@ehr/features';
import type { AlertPolicy } from './policy.js';

export interface BudgetUse {
  unit: string | null;
  /** Calendar day in the policy's time zone, YYYY-MM-DD. */
  day: string;
  used: number;
}

/** What the state machine asks of the budget. */
export interface AlertBudget {
  allows(unit: string | null, at: number, severity: SeverityBand): boolean;
  record(unit: string | null, at: number): void;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** YYYY-MM-DD of `at` in `timeZone` (summer time included). */
export function calendarDay(at: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) formatters.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f.format(at);
}

/** The unit as a map key: null (unknown unit) shares one budget. */
const unitKey = (unit: string | null) => (unit === null ? '\u0000unknown' : `u:${unit}`);

export class BudgetLedger implements AlertBudget {
  private readonly uses = new Map<string, BudgetUse>();

  constructor(private readonly budget: AlertPolicy['budget']) {}

  private current(unit: string | null, day: string): BudgetUse {
    const key = unitKey(unit);
    let use = this.uses.get(key);
    if (!use || use.day !== day) this.uses.set(key, (use = { unit, day, used: 0 }));
    return use;
  }

  allows(unit: string | null, at: number, severity: SeverityBand): boolean {
    const limit = this.budget.perUnitPerDay;
    if (limit === null) return true;
    if (severity === 'high' && this.budget.highBypasses) return true;
    const use = this.uses.get(unitKey(unit));
    return !use || use.day !== calendarDay(at, this.budget.timeZone) || use.used < limit;
  }

  record(unit: string | null, at: number): void {
    if (this.budget.perUnitPerDay === null) return;
    this.current(unit, calendarDay(at, this.budget.timeZone)).used++;
  }

  /** Today's use of every unit (for GET /alerts and the changelog). */
  entries(): BudgetUse[] {
    return [...this.uses.values()].map((u) => ({ ...u }));
  }

  use(unit: string | null): BudgetUse | undefined {
    const u = this.uses.get(unitKey(unit));
    return u && { ...u };
  }

  restore(use: BudgetUse): void {
    this.uses.set(unitKey(use.unit), { ...use });
  }

  /** Exactly these uses, nothing else. */
  reset(uses: readonly BudgetUse[]): void {
    this.uses.clear();
    for (const u of uses) this.restore(u);
  }

  get limit(): number | null {
    return this.budget.perUnitPerDay;
  }
}
