// ISO 8601 durations as definitions use them (weeks, days, hours, minutes, seconds; no months or
// years, whose length depends on the calendar).
import { CustosError } from '../../errors/index.ts';

const DURATION = /^P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?$/;

/** Milliseconds of an ISO 8601 duration such as `PT15M` or `P3D`. Throws ENGINE_EXPRESSION_FAILED. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (m === null || !/\d/.test(text) || text.endsWith('T')) {
    throw new CustosError('ENGINE_EXPRESSION_FAILED', 'Duration is not an ISO 8601 duration', {
      details: { rule: 'ISO 8601 duration (PnW, PnD, PTnH, PTnM, PTnS)' },
    });
  }
  // Unmatched groups are undefined at run time, whatever RegExpExecArray's element type says.
  const [w, d, h, min, s] = m.slice(1).map((v: string | undefined) => Number(v ?? 0));
  return ((((w ?? 0) * 7 + (d ?? 0)) * 24 + (h ?? 0)) * 60 + (min ?? 0)) * 60_000 + (s ?? 0) * 1000;
}
