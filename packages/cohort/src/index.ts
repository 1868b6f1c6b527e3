export * from './types.js';
export * from './time.js';
export * from './codes.js';
export * from './labels.js';
export * from './merge.js';
export { artefactRates, type ArtefactRates } from './synthetic/artefacts.js';
export { DEFAULT_COURSE_MIX, type CourseMix } from './synthetic/plan.js';
export {
  cohortMeta,
  cohortPatients,
  cohortStream,
  DEFAULT_START,
  GENERATOR_VERSION,
  generateCohort,
  wardStream,
  type Cohort,
  type CohortOptions,
  type WardOptions,
} from './synthetic/cohort.js';
export { COLUMNS, CohortFormatError, FILES } from './csv/format.js';
export { writeCohort, type WriteCohortInput, type WriteCohortResult } from './csv/write.js';
export { readCohort, type CohortFiles, type CohortRowRejection, type ReadCohortOptions } from './csv/read.js';
export * from './meds/read.js';
export * from './physionet/columns.js';
export * from './physionet/read.js';
export * from './physionet/events.js';
export * from './fhir/observation.js';
export * from './fhir/encounter.js';
export * from './stats.js';
