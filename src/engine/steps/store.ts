// The store step: write a record through the encrypting record codec, or look records up by a
// blind-indexed field. Outputs carry record ids only, never the stored values.
import type { JsonValue } from '../../crypto/index.ts';
import type { StoreStep } from '../definition/types.ts';
import { renderJson } from '../expressions/render.ts';
import type { StepOutcome } from '../step-contract.ts';
import { throwIfAborted, type StepExecution } from './common.ts';

/** Execute a store step: `{ id }` for put, `{ ids, count }` for find. Throws PRIVACY_* from the codec. */
export async function executeStore(step: StoreStep, { runtime }: StepExecution): Promise<StepOutcome> {
  const records = runtime.services.records;
  if (step.action === 'put') {
    const record: Record<string, JsonValue> = {};
    for (const [field, template] of Object.entries(step.record)) {
      Object.defineProperty(record, field, {
        value: renderJson(template, runtime.scope),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    throwIfAborted(runtime.signal);
    const { id } = await records.put(step.recordType, record);
    return { kind: 'completed', output: { id } };
  }
  const value = renderJson(step.value, runtime.scope);
  throwIfAborted(runtime.signal);
  const found = await records.findBy(step.recordType, step.field, value);
  const ids = found.map((r) => r.id);
  return { kind: 'completed', output: { ids, count: ids.length } };
}
