// The ordered classification scale DLP compares a field's label against a connector's clearance.
// Lowest first: a connector cleared for a level may receive that level and everything below it.

export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;

export type Classification = (typeof CLASSIFICATIONS)[number];

/** Rank of a classification on the scale; unknown labels rank above everything (fail closed). */
export function classificationRank(label: string): number {
  const i = (CLASSIFICATIONS as readonly string[]).indexOf(label);
  return i < 0 ? CLASSIFICATIONS.length : i;
}

/** True when a field labelled `label` may go to a connector cleared for `clearance`. */
export function withinClearance(label: string, clearance: Classification): boolean {
  return classificationRank(label) <= classificationRank(clearance);
}
