// Public surface of workflow definitions: types, the published JSON Schema, parsing with line and
// column, validation, and the step graph the runtime follows.
export {
  CLASSIFICATIONS,
  END,
  HELPER_MODULES,
  HTTP_METHODS,
  RETENTION_CLASSES,
  STEP_KINDS,
  WORKFLOW_FORMAT,
} from './types.ts';
export type {
  AiGuardAction,
  AiStep,
  ApprovalStep,
  BranchCase,
  BranchStep,
  Classification,
  CodeLimits,
  CodeStep,
  ConnectorAuth,
  ConnectorDefinition,
  DataField,
  DataSchema,
  DelayStep,
  FieldType,
  HelperModule,
  HttpMethod,
  HttpStep,
  RetentionClass,
  RetryPolicy as StepRetryPolicy,
  StepDefinition,
  StepKind,
  StepOfKind,
  StoreFindStep,
  StorePutStep,
  StoreStep,
  SubflowStep,
  TransformStep,
  TriggerDefinition,
  WorkflowDefinition,
} from './types.ts';
export { WORKFLOW_SCHEMA, LIMITS as DEFINITION_LIMITS, PATTERNS as DEFINITION_PATTERNS } from './schema.ts';
export { parseWorkflow, checkWorkflowText } from './parse.ts';
export type { ParseOptions } from './parse.ts';
export { validateWorkflow, checkWorkflow, definitionError } from './validate.ts';
export type { ValidateOptions, WorkflowCheck } from './validate.ts';
export { firstStepId, nextStepId, stepById, successorsOf } from './graph.ts';
export { findCredential } from './credentials.ts';
export type { CredentialKind } from './credentials.ts';
