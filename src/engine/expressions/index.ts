// Public surface of expressions: the `{{ … }}` template language and guarded JSONata.
export {
  parseTemplate,
  templateReferences,
  formatReference,
  isTemplate,
  TEMPLATE_FILTERS,
  TEMPLATE_ROOTS,
} from './template.ts';
export type {
  PathSegment,
  Reference,
  Template,
  TemplateExpression,
  TemplateFilter,
  TemplatePart,
  TemplateRoot,
} from './template.ts';
export {
  renderJson,
  renderText,
  renderTemplateText,
  resolveReference,
  MAX_RENDERED_CHARS,
} from './render.ts';
export type { RenderOptions } from './render.ts';
export { compileJsonata, evaluateJsonata, isTruthy, DEFAULT_JSONATA_LIMITS } from './jsonata.ts';
export type { CompiledJsonata, JsonataLimits, JsonataReferences } from './jsonata.ts';
