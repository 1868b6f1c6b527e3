import { describe, expect, it } from 'vitest';
import { news2Tier, news2TierOf, servedBand } from '../src/index.js';

describe('the served band: never calmer than NEWS2, and says which rule set it', () => {
  it('NEWS2 tiers: ≥ 7 high, ≥ 5 medium, a single 3 medium, else low', () => {
    expect(news2Tier(7).band).toBe('high');
    expect(news2Tier(5).band).toBe('medium');
    expect(news2Tier(3, ['respiration rate']).band).toBe('medium');
    expect(news2Tier(4).band).toBe('low');
    expect(news2Tier(null).band).toBe('low');
  });

  it('reads the tier from a feature vector (parts scoring 3 named)', () => {
    const t = news2TierOf({ news2_total: 3, news2_respiratory_rate: 3, news2_spo2: 0, news2_heart_rate: null });
    expect(t).toMatchObject({ band: 'medium', total: 3, threes: ['respiration rate'] });
    expect(news2TierOf({}).band).toBe('low');
  });

  it('NEWS2 raises a calmer model band (source news2); a model band at or above the tier stays (source model)', () => {
    expect(servedBand({ modelBand: 'low', news2: news2Tier(11) })).toMatchObject({ band: 'high', source: 'news2' });
    expect(servedBand({ modelBand: 'medium', news2: news2Tier(13) })).toMatchObject({ band: 'high', source: 'news2' });
    expect(servedBand({ modelBand: 'low', news2: news2Tier(2, ['SpO2']) })).toMatchObject({ band: 'medium', source: 'news2' });
    const m = servedBand({ modelBand: 'high', probability: 0.43, news2: news2Tier(4) });
    expect(m).toMatchObject({ band: 'high', source: 'model' });
    expect(m.reason).toContain('43 %');
    expect(servedBand({ modelBand: 'medium', news2: news2Tier(5) })).toMatchObject({ band: 'medium', source: 'model' });
  });

  it('without a model band, NEWS2 sets it', () => {
    expect(servedBand({ modelBand: null, news2: news2Tier(6) })).toMatchObject({ band: 'medium', source: 'news2' });
  });
});
