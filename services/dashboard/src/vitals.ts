import * as featuresLib from '@ehr/features';
import { catalogueOf, FEATURE_NAMES, featureLookup } from '@ehr/features';

/** The vitals the ward view draws, in column order, with the base signal name they come from. */
/** `label` heads a column, `title` names the vital in full, `digits` is how it is shown; the page takes all three from the server. */
export const KEY_VITALS = [
  { key: 'hr', signal: 'heart_rate', label: 'HR', title: 'Heart rate', unit: '/min', digits: 0, aliases: ['hr', 'pulse'] },
  { key: 'rr', signal: 'respiratory_rate', label: 'RR', title: 'Respiratory rate', unit: '/min', digits: 0, aliases: ['rr', 'resp_rate'] },
  { key: 'spo2', signal: 'spo2', label: 'SpO₂', title: 'SpO₂', unit: '%', digits: 0, aliases: ['sp_o2', 'oxygen_saturation'] },
  { key: 'sbp', signal: 'systolic_bp', label: 'SBP', title: 'Systolic BP', unit: 'mmHg', digits: 0, aliases: ['sbp', 'sys_bp', 'bp_systolic'] },
  { key: 'temp', signal: 'temperature', label: 'Temp', title: 'Temperature', unit: '°C', digits: 1, aliases: ['temp'] },
] as const;
export type VitalKey = (typeof KEY_VITALS)[number]['key'];

/** A feature whose name says it is a derivative of the signal, not its current value. */
const DERIVED = /(^|_)(delta|diff|change|slope|trend|min|max|mean|avg|median|std|var|count|n|since|age|hours|minutes|missing|is|has|flag|points|score|scale|target|device|ratio|z)(_|$)/;
const CURRENT_SUFFIXES = ['', '_last', '_latest', '_current', '_value', '_now'];

/**
 * Which feature carries the current value of each key vital. The feature list is being
 * defined by the feature engineer: an exact signal name (`heart_rate`) or `<signal>_last`
 * wins, then any non-derived feature starting with the signal name; a vital with no such
 * feature is simply not drawn.
 */
export function resolveVitalFeatures(names: Iterable<string>): Partial<Record<VitalKey, string>> {
  const list = [...names];
  const out: Partial<Record<VitalKey, string>> = {};
  for (const vital of KEY_VITALS) {
    let best: { name: string; rank: number } | null = null;
    for (const name of list) {
      const rank = rankName(name.toLowerCase(), [vital.signal, ...vital.aliases]);
      if (rank !== null && (best === null || rank < best.rank || (rank === best.rank && name.length < best.name.length))) best = { name, rank };
    }
    if (best) out[vital.key] = best.name;
  }
  return out;
}

function rankName(name: string, bases: readonly string[]): number | null {
  for (const [b, base] of bases.entries()) {
    const exact = CURRENT_SUFFIXES.indexOf(name.startsWith(base) ? name.slice(base.length) : '\u0000');
    if (exact >= 0) return b * 100 + exact;
  }
  for (const [b, base] of bases.entries()) {
    if (name.startsWith(`${base}_`) && !DERIVED.test(name.slice(base.length + 1))) return b * 100 + 50;
  }
  return null;
}

/** The feature list published by `@ehr/features`, once it exists (read defensively: it may not yet). */
export function declaredFeatureNames(lib: Record<string, unknown> = featuresLib): readonly string[] | null {
  const names = lib['FEATURE_NAMES'];
  return Array.isArray(names) && names.every((n) => typeof n === 'string') ? names : null;
}

/**
 * Maps a score's feature values to the key vitals. Resolution is cached per feature-name
 * set (a pipeline emits one set, so this is one lookup per score).
 */
export class VitalExtractor {
  private readonly cache = new Map<string, Partial<Record<VitalKey, string>>>();
  private readonly declared: Partial<Record<VitalKey, string>> | null;
  /** The mapping for a record of exactly the catalogue's names (what a frame decodes to), once. */
  private catalogueMapping: Partial<Record<VitalKey, string>> | undefined;

  constructor(declaredNames: readonly string[] | null = declaredFeatureNames()) {
    this.declared = declaredNames ? resolveVitalFeatures(declaredNames) : null;
  }

  /**
   * The key vitals of a score's payload. A payload decoded from a frame is read by catalogue
   * index: building its 211-name features record for five values, and listing its names to
   * pick the mapping, was 9 % of the dashboard's share of `npm start`'s CPU (issue 18).
   */
  extractFrom(payload: { readonly features: Readonly<Record<string, number | null>> }): Record<VitalKey, number | null> {
    const catalogue = catalogueOf(payload);
    if (catalogue === undefined) return this.extract(payload.features);
    this.catalogueMapping ??= this.mappingFor(Object.fromEntries(FEATURE_NAMES.map((name) => [name, null])));
    const read = featureLookup(catalogue.values);
    const out = {} as Record<VitalKey, number | null>;
    for (const { key } of KEY_VITALS) {
      const name = this.catalogueMapping[key];
      out[key] = name === undefined ? null : read(name);
    }
    return out;
  }

  extract(features: Readonly<Record<string, number | null>>): Record<VitalKey, number | null> {
    const mapping = this.mappingFor(features);
    const out = {} as Record<VitalKey, number | null>;
    for (const { key } of KEY_VITALS) {
      const name = mapping[key];
      const value = name === undefined ? undefined : features[name];
      out[key] = typeof value === 'number' && Number.isFinite(value) ? value : null;
    }
    return out;
  }

  private mappingFor(features: Readonly<Record<string, number | null>>): Partial<Record<VitalKey, string>> {
    const names = Object.keys(features);
    // The declared list wins wherever its name is present in this score.
    if (this.declared && KEY_VITALS.every(({ key }) => this.declared?.[key] === undefined || Object.hasOwn(features, this.declared[key]))) {
      return this.declared;
    }
    const signature = names.join('\u0001');
    let mapping = this.cache.get(signature);
    if (!mapping) {
      if (this.cache.size >= 64) this.cache.clear();
      mapping = resolveVitalFeatures(names);
      this.cache.set(signature, mapping);
    }
    return mapping;
  }
}
