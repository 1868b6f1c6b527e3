// Nursing and progress notes whose content follows the latent state with a lag: what
// the writer noticed a few hours ago, in the words wards use, with negations ("no
// increased work of breathing") and noise, so the text carries signal but not the answer.
import type { Random } from '@ehr/features';
import type { Course } from '../types.js';

export interface NoteContext {
  course: Course;
  /** Severity the writer perceived (lagged, noisy), 0–1+. */
  perceived: number;
  onOxygen: boolean;
  oxygenLitres: number;
  hr: number;
  temp: number;
  spo2: number;
  treated: boolean;
}

const STABLE_NEGATIONS = [
  'No increased work of breathing.',
  'No chest pain.',
  'Denies shortness of breath.',
  'No signs of bleeding.',
  'Afebrile.',
  'No new confusion.',
  'No nausea or vomiting.',
  'Not tachycardic.',
  'No rigors.',
];

const FILLER = [
  'Pressure areas intact.',
  'Family visited this afternoon.',
  'Awaiting physiotherapy review.',
  'Tolerating diet and fluids.',
  'Mobilising with one assist.',
  'Slept well overnight.',
  'Pain controlled with regular paracetamol.',
  'IV cannula site clean.',
  'Discharge planning discussed with family.',
  'Bowels opened.',
  'Skin integrity maintained.',
];

const SIGNS: Record<Exclude<Course, 'stable'>, { mild: string[]; marked: string[]; negated: string[] }> = {
  sepsis: {
    mild: ['Feels warm to touch.', 'Appears more lethargic than yesterday.', 'Reduced oral intake.', 'Urine output reduced.'],
    marked: ['Rigors this shift.', 'Hot and clammy.', 'Blood cultures sent.', 'Looks unwell, flushed.', 'Passing little urine.', 'Drowsy, rousable to voice.'],
    negated: ['No rigors.', 'Not clammy.', 'No new confusion.'],
  },
  respiratory: {
    mild: ['Slightly breathless on exertion.', 'Productive cough.', 'Occasional wheeze.'],
    marked: ['Increased work of breathing.', 'Using accessory muscles.', 'Breathless at rest.', 'Unable to complete sentences.', 'Oxygen requirement increased.'],
    negated: ['No increased work of breathing.', 'Not breathless at rest.', 'No accessory muscle use.'],
  },
  bleeding: {
    mild: ['Looks pale.', 'Dizzy on standing.', 'Dark stool reported.'],
    marked: ['Melaena x2 this shift.', 'Fresh blood per rectum.', 'Pale and sweaty.', 'Haematemesis, approx 200 mL.', 'Cool peripheries.'],
    negated: ['No signs of bleeding.', 'No melaena.', 'No haematemesis.'],
  },
};

const take = (rng: Random, items: readonly string[], n: number): string[] => {
  const pool = [...items];
  const out: string[] = [];
  while (out.length < n && pool.length > 0) out.push(pool.splice(Math.floor(rng.next() * pool.length), 1)[0]!);
  return out;
};

/** Sentences about the problem the patient actually has (or, noisily, one they do not). */
function findings(rng: Random, ctx: NoteContext): string[] {
  const s = ctx.perceived;
  if (ctx.course === 'stable' || s < 0.15) {
    // Stable: reassurance, sometimes a harmless mild complaint (text noise).
    const out = take(rng, STABLE_NEGATIONS, 2 + Math.floor(rng.next() * 2));
    if (rng.chance(0.12)) out.push(rng.pick(SIGNS[rng.pick(['sepsis', 'respiratory', 'bleeding'] as const)].mild));
    return out;
  }
  const signs = SIGNS[ctx.course];
  const out: string[] = [];
  if (s < 0.45) out.push(...take(rng, signs.mild, 1 + Math.floor(rng.next() * 2)));
  else out.push(...take(rng, signs.marked, 1 + Math.floor(s * 2.5)), ...take(rng, signs.mild, 1));
  // Writers still chart negatives about the other systems, and sometimes miss the point.
  const others = (['sepsis', 'respiratory', 'bleeding'] as const).filter((c) => c !== ctx.course);
  out.push(rng.pick(SIGNS[rng.pick(others)].negated));
  if (rng.chance(0.15)) out.push('Patient states they feel better today.');
  return out;
}

function observations(rng: Random, ctx: NoteContext): string {
  const parts: string[] = [];
  if (rng.chance(0.6)) parts.push(`HR ${Math.round(ctx.hr)}`);
  if (rng.chance(0.5)) parts.push(`T ${ctx.temp.toFixed(1)}`);
  if (rng.chance(0.6)) parts.push(`SpO2 ${Math.round(ctx.spo2)}% ${ctx.onOxygen ? `on ${ctx.oxygenLitres}L O2` : 'on room air'}`);
  return parts.length > 0 ? `Obs: ${parts.join(', ')}.` : '';
}

export function nursingNote(rng: Random, ctx: NoteContext): string {
  const s = ctx.perceived;
  const opening = s < 0.15 ? rng.pick(['Settled shift.', 'Comfortable, alert and oriented.', 'Uneventful shift.']) : s < 0.45 ? rng.pick(['Patient more tired this shift.', 'Some concerns this shift.', 'Reviewed by nurse in charge.']) : rng.pick(['Concerned about patient this shift.', 'Patient deteriorating, medical team aware.', 'Escalated to outreach team.']);
  const plan = s >= 0.45 ? rng.pick(['Obs increased to half-hourly.', 'Doctor informed, awaiting review.', 'Fluid balance chart started.']) : rng.pick(['Continue current plan.', 'Routine obs.', '']);
  return [opening, ...findings(rng, ctx), observations(rng, ctx), ...take(rng, FILLER, 1 + Math.floor(rng.next() * 2)), plan].filter(Boolean).join(' ');
}

export function progressNote(rng: Random, ctx: NoteContext, dayOfStay: number): string {
  const s = ctx.perceived;
  const assessment =
    s < 0.15 ? rng.pick(['Clinically stable.', 'Improving.', 'Medically optimising.']) : s < 0.45 ? rng.pick(['Some clinical concern.', 'Not progressing as expected.']) : rng.pick(['Clinically worse.', 'Unwell, deteriorating.', 'High concern.']);
  const plan: string[] = [];
  if (s >= 0.3 && ctx.course === 'sepsis') plan.push(rng.pick(['Start broad-spectrum antibiotics.', 'Chase blood cultures.', 'Sepsis six bundle.']));
  if (s >= 0.3 && ctx.course === 'respiratory') plan.push(rng.pick(['Chest X-ray.', 'Titrate O2 to target saturations.', 'ABG.']));
  if (s >= 0.3 && ctx.course === 'bleeding') plan.push(rng.pick(['Group and save, crossmatch 2 units.', 'Urgent endoscopy referral.', 'Hold anticoagulation.']));
  if (s >= 0.6) plan.push(rng.pick(['Discuss with critical care outreach.', 'Escalation plan documented.', 'Consider HDU review.']));
  if (ctx.treated && rng.chance(0.5)) plan.push('Responding partially to treatment.');
  if (s < 0.15) plan.push(rng.pick(['Continue current management.', 'Aim for discharge when mobile.', 'Review bloods tomorrow.']));
  return [`Ward round, day ${dayOfStay}.`, assessment, ...findings(rng, ctx), `Plan: ${plan.join(' ')}`].join(' ');
}
