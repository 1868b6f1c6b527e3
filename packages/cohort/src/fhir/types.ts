// The shapes the FHIR mappings share (Observation, and Patient / Encounter in a Bundle).
import type { OperationOutcomeIssue } from 'fhir/r4.js';
import type { RawEvent } from '@ehr/features';

export type IssueSeverity = OperationOutcomeIssue['severity'];

export interface FhirIssue {
  severity: IssueSeverity;
  /** FHIR issue type: required, value, invalid, structure, not-supported, informational, … */
  code: OperationOutcomeIssue['code'];
  diagnostics: string;
  /** FHIRPath of the element concerned, e.g. `Observation.valueQuantity.value`. */
  expression: string;
}

export interface UnsupportedCode {
  expression: string;
  system: string | null;
  code: string | null;
  display: string | null;
}

export interface ObservationMapping {
  /** False when the resource has an error: it yields no event. */
  valid: boolean;
  events: RawEvent[];
  issues: FhirIssue[];
  unsupported: UnsupportedCode[];
}
