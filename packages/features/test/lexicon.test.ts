import { describe, expect, it } from 'vitest';
import { analyseNote, RISK_CATEGORIES, type RiskCategory } from '../src/index.js';

const bits = (mask: number) => RISK_CATEGORIES.filter((_, i) => (mask >> i) & 1);
const read = (text: string) => {
  const a = analyseNote(text);
  return { affirmed: bits(a.affirmed), negated: bits(a.negated) };
};

describe('note lexicon with negation', () => {
  it.each<[string, RiskCategory[], RiskCategory[]]>([
    ['Patient denies chest pain.', [], ['chest_pain']],
    ['No signs of infection.', [], ['infection']],
    ['Complains of chest pain radiating to the left arm.', ['chest_pain'], []],
    ['No fever or shortness of breath', [], ['dyspnea', 'infection']],
    ['Denies chest pain, reports shortness of breath.', ['dyspnea'], ['chest_pain']],
    ['No chest pain but increasingly confused overnight.', ['confusion'], ['chest_pain']],
    ['Pneumonia ruled out. Started on vasopressors for hypotension.', ['hypotension'], ['infection']],
    ['Febrile and tachypneic; rapid response called.', ['dyspnea', 'infection', 'deterioration'], []],
    ['Chest pain resolved. Later chest pain again.', ['chest_pain'], []],
    ['Melena noted; plan for comfort care discussed with family.', ['bleeding', 'comfort_care'], []],
    ['Intubated and on the ventilator.', ['respiratory_support'], []],
    ['Stable, eating well, mobilising.', [], []],
  ])('%s', (text, affirmed, negated) => {
    expect(read(text)).toEqual({ affirmed, negated });
  });

  it('negation reaches five words, no further', () => {
    expect(read('no history of any recent travel or fever').affirmed).toEqual(['infection']);
    expect(read('no recent travel or fever').negated).toEqual(['infection']);
  });

  it('counts characters and whitespace-separated words', () => {
    const a = analyseNote('Pt  resting comfortably.');
    expect([a.length, a.words, a.avgWordLength]).toEqual([24, 3, (2 + 7 + 12) / 3]);
    expect(analyseNote('   ').words).toBe(0);
    expect(analyseNote('').avgWordLength).toBeNaN();
  });
});
