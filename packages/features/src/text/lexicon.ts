// Clinical risk terms in free-text notes, with NegEx-style negation: a term is negated
// when a negation cue stands before it in the same clause ("denies chest pain", "no
// signs of infection") or a post-negation cue follows it ("infection ruled out").
// Hand-written because npm has no maintained NegEx; the rules are few and testable.

/** Categories in feature order; each bit of a mask is one category. */
export const RISK_CATEGORIES = [
  'chest_pain',
  'dyspnea',
  'infection',
  'confusion',
  'bleeding',
  'hypotension',
  'respiratory_support',
  'deterioration',
  'comfort_care',
] as const;
export type RiskCategory = (typeof RISK_CATEGORIES)[number];

/** Phrases (lower case, whole words; a trailing `*` matches any word ending). */
export const RISK_TERMS: Readonly<Record<RiskCategory, readonly string[]>> = {
  chest_pain: ['chest pain', 'chest tightness', 'chest pressure', 'angina', 'anginal'],
  dyspnea: ['shortness of breath', 'short of breath', 'sob', 'dyspnea', 'dyspneic', 'dyspnoea', 'respiratory distress', 'increased work of breathing', 'tachypneic', 'tachypnea', 'labored breathing', 'laboured breathing'],
  infection: ['infection', 'infected', 'sepsis', 'septic', 'pneumonia', 'cellulitis', 'uti', 'urinary tract infection', 'fever', 'febrile', 'rigors', 'bacteremia'],
  confusion: ['confused', 'confusion', 'altered mental status', 'ams', 'delirium', 'delirious', 'disoriented', 'agitated', 'agitation', 'lethargic', 'obtunded', 'unresponsive', 'drowsy'],
  bleeding: ['bleeding', 'bleed', 'hemorrhage', 'haemorrhage', 'melena', 'hematemesis', 'haematemesis', 'hematochezia', 'coffee ground*'],
  hypotension: ['hypotension', 'hypotensive', 'shock', 'pressor*', 'vasopressor*', 'norepinephrine', 'noradrenaline', 'levophed', 'fluid bolus'],
  respiratory_support: ['intubated', 'intubation', 'ventilator', 'mechanical ventilation', 'bipap', 'cpap', 'niv', 'high flow', 'non-rebreather', 'nonrebreather'],
  deterioration: ['deteriorat*', 'worsening', 'worsened', 'rapid response', 'code blue', 'escalat*', 'transfer to icu', 'critical', 'unstable'],
  comfort_care: ['comfort care', 'comfort measures', 'palliative', 'hospice', 'dnr', 'do not resuscitate', 'end of life'],
};

/** Cues that negate what follows them in the clause. */
export const PRE_NEGATION = [
  'no', 'not', 'denies', 'denied', 'deny', 'denying', 'without', 'negative for', 'no signs of', 'no sign of',
  'no evidence of', 'absence of', 'absent', 'free of', 'resolution of', 'resolved', 'never', 'nor', 'neither',
  'rules out', 'ruled out', 'rule out', 'r/o', 'unlikely', 'no further', 'no longer', 'no new',
];
/** Cues that negate what precedes them in the clause ("infection ruled out"). */
export const POST_NEGATION = ['ruled out', 'was ruled out', 'is ruled out', 'unlikely', 'resolved', 'absent', 'negative'];
/** Words that end a negation's reach within a sentence. */
// Includes verbs that start a new, affirmed statement ("denies chest pain, reports dyspnea").
const CLAUSE_BREAKS = new Set(['but', 'however', 'although', 'though', 'except', 'yet', 'apart', 'aside', 'which', 'who', 'now', 'still',
  'reports', 'reported', 'reporting', 'complains', 'complaining', 'c/o', 'endorses', 'endorsed', 'admits', 'presents', 'presenting', 'developed', 'develops']);
/** How many words after a cue it still negates (NegEx uses 5). */
export const NEGATION_SCOPE = 5;

export interface NoteAnalysis {
  /** Characters of the note. */
  length: number;
  words: number;
  /** Mean characters per word; NaN with no words. */
  avgWordLength: number;
  /** Bit i set: category i mentioned and not negated at least once. */
  affirmed: number;
  /** Bit i set: category i mentioned, every time negated. */
  negated: number;
}

interface Phrase {
  words: string[];
  prefix: boolean;
  category: number;
}

const tokenise = (text: string) => text.toLowerCase().match(/[a-z0-9]+(?:[-/'][a-z0-9]+)*|[.;:!?\n]/g) ?? [];
const phraseWords = (p: string) => tokenise(p).filter((w) => !/^[.;:!?\n]$/.test(w));

const PHRASES: Phrase[] = RISK_CATEGORIES.flatMap((category, i) =>
  RISK_TERMS[category].map((p) => ({ words: phraseWords(p.replace(/\*$/, '')), prefix: p.endsWith('*'), category: i })),
).sort((a, b) => b.words.length - a.words.length);
// Phrases indexed by first word; phrases whose only word is a prefix are tried on every word.
const BY_FIRST_WORD = new Map<string, Phrase[]>();
const PREFIX_WORDS: Phrase[] = [];
for (const p of PHRASES) {
  if (p.prefix && p.words.length === 1) PREFIX_WORDS.push(p);
  else BY_FIRST_WORD.set(p.words[0]!, [...(BY_FIRST_WORD.get(p.words[0]!) ?? []), p]);
}
const findPhrase = (tokens: readonly string[], i: number): Phrase | undefined =>
  BY_FIRST_WORD.get(tokens[i]!)?.find((p) => matchAt(tokens, i, p.words, p.prefix)) ?? PREFIX_WORDS.find((p) => tokens[i]!.startsWith(p.words[0]!));
const PRE = PRE_NEGATION.map(phraseWords).sort((a, b) => b.length - a.length);
const POST = POST_NEGATION.map(phraseWords).sort((a, b) => b.length - a.length);

const isBreak = (t: string) => /^[.;:!?\n]$/.test(t) || CLAUSE_BREAKS.has(t);

function matchAt(tokens: readonly string[], i: number, words: readonly string[], prefixLast = false): boolean {
  if (i + words.length > tokens.length) return false;
  for (let k = 0; k < words.length; k++) {
    const t = tokens[i + k]!;
    const w = words[k]!;
    if (prefixLast && k === words.length - 1 ? !t.startsWith(w) : t !== w) return false;
  }
  return true;
}

/** Length, words and risk terms of a note (counting only words, not punctuation). */
export function analyseNote(text: string): NoteAnalysis {
  const tokens = tokenise(text);
  let words = 0;
  let letters = 0;
  for (const t of text.split(/\s+/)) {
    if (t.length === 0) continue;
    words++;
    letters += t.length;
  }
  // Negation state: how many words a pre-cue still covers; reset at a clause break.
  let negatedFor = 0;
  let affirmed = 0;
  let mentioned = 0;
  for (let i = 0; i < tokens.length; ) {
    const t = tokens[i]!;
    if (isBreak(t)) {
      negatedFor = 0;
      i++;
      continue;
    }
    const phrase = findPhrase(tokens, i);
    if (phrase) {
      const bit = 1 << phrase.category;
      mentioned |= bit;
      const after = i + phrase.words.length;
      const postNegated = POST.some((cue) => matchAt(tokens, after, cue));
      if (negatedFor === 0 && !postNegated) affirmed |= bit;
      negatedFor = Math.max(0, negatedFor - phrase.words.length);
      i = after;
      continue;
    }
    const cue = PRE.find((c) => matchAt(tokens, i, c));
    if (cue) {
      negatedFor = NEGATION_SCOPE;
      i += cue.length;
      continue;
    }
    if (negatedFor > 0) negatedFor--;
    i++;
  }
  return { length: text.length, words, avgWordLength: words === 0 ? NaN : letters / words, affirmed, negated: mentioned & ~affirmed };
}
