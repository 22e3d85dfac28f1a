// Five-field cron expressions (minute hour day-of-month month day-of-week), with ranges, steps,
// lists, month and weekday names and the @hourly … @yearly macros; next fire time in any IANA zone.
import { CustosError } from '../../../errors/index.ts';

export interface CronSchedule {
  readonly source: string;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly days: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  readonly weekdays: ReadonlySet<number>;
  /** Vixie cron: when both day fields are restricted, either may match. */
  readonly dayOr: boolean;
}

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MAX_LENGTH = 200;

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  readonly nameBase?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: WEEKDAYS, nameBase: 0 },
];

function invalid(rule: string): CustosError {
  return new CustosError('RUNTIME_CRON_INVALID', `Cron expression is invalid: ${rule}`, {
    details: { field: 'trigger.cron', rule },
  });
}

function value(token: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(token.toLowerCase()) ?? -1;
  if (named >= 0) return named + (spec.nameBase ?? 0);
  if (!/^\d{1,2}$/.test(token))
    throw invalid(`${spec.name}: "${token.slice(0, 10)}" is not a number or name`);
  const n = Number(token);
  if (n < spec.min || n > spec.max) throw invalid(`${spec.name}: ${n} is outside ${spec.min}-${spec.max}`);
  return n;
}

function parseField(text: string, spec: FieldSpec): { set: Set<number>; star: boolean } {
  const set = new Set<number>();
  let star = false;
  for (const part of text.split(',')) {
    const [range, stepText, extra] = part.split('/');
    if (range === undefined || range === '' || extra !== undefined) throw invalid(`${spec.name}: "${part}"`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (
      !Number.isInteger(step) ||
      step < 1 ||
      step > spec.max ||
      (stepText !== undefined && !/^\d+$/.test(stepText))
    ) {
      throw invalid(`${spec.name}: step must be a positive integer`);
    }
    let lo: number;
    let hi: number;
    if (range === '*') {
      star = star || stepText === undefined;
      lo = spec.min;
      hi = spec.max;
    } else {
      const [a, b, more] = range.split('-');
      if (a === undefined || more !== undefined) throw invalid(`${spec.name}: "${range}"`);
      lo = value(a, spec);
      hi = b === undefined ? (stepText === undefined ? lo : spec.max) : value(b, spec);
      if (hi < lo) throw invalid(`${spec.name}: range ${lo}-${hi} is reversed`);
    }
    for (let v = lo; v <= hi; v += step) set.add(v);
  }
  return { set, star };
}

/** Parse a cron expression. Throws RUNTIME_CRON_INVALID naming the field and the rule. */
export function parseCron(expression: string): CronSchedule {
  if (expression.length > MAX_LENGTH) throw invalid(`longer than ${MAX_LENGTH} characters`);
  const text = MACROS[expression.trim().toLowerCase()] ?? expression.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5) throw invalid('five fields: minute hour day-of-month month day-of-week');
  const fields = parts.map((p, i) => {
    const spec = FIELDS[i];
    if (spec === undefined) throw invalid('five fields');
    return parseField(p, spec);
  });
  const [minutes, hours, days, months, weekdays] = fields as [
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
    ReturnType<typeof parseField>,
  ];
  if (weekdays.set.has(7)) {
    weekdays.set.delete(7);
    weekdays.set.add(0);
  }
  return {
    source: expression,
    minutes: minutes.set,
    hours: hours.set,
    days: days.set,
    months: months.set,
    weekdays: weekdays.set,
    dayOr: !days.star && !weekdays.star,
  };
}

const MINUTE = 60_000;
const HORIZON_MS = 5 * 366 * 24 * 60 * MINUTE;

function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = s.days.has(d.getUTCDate());
  const dow = s.weekdays.has(d.getUTCDay());
  return s.dayOr ? dom || dow : dom && dow;
}

/** The first wall-clock minute at or after `wall` (UTC arithmetic on wall-clock fields) that matches. */
function nextWall(s: CronSchedule, wall: number): number | undefined {
  const end = wall + HORIZON_MS;
  const d = new Date(wall);
  while (d.getTime() <= end) {
    if (!s.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
    } else if (!dayMatches(s, d)) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
    } else if (!s.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
    } else if (!s.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
    } else {
      return d.getTime();
    }
  }
  return undefined;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock time in `zone` of `instant`, as milliseconds in UTC arithmetic. */
function wallOf(instant: number, zone: string): number {
  if (zone === 'UTC') return instant;
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(instant))) p[part.type] = Number(part.value);
  return Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
}

/** Check an IANA time zone name. Throws RUNTIME_CRON_INVALID. */
export function checkTimeZone(zone: string): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw invalid('timezone: unknown IANA time zone');
  }
  return zone;
}

/**
 * The first fire time strictly after `after` (ms), in time zone `zone` (default UTC). Wall times a
 * DST gap skips are skipped; repeated ones fire once. Throws RUNTIME_CRON_INVALID when it never fires.
 */
export function nextFire(s: CronSchedule, after: number, zone = 'UTC'): number {
  let wall = Math.floor(wallOf(after, zone) / MINUTE) * MINUTE + MINUTE;
  for (let guard = 0; guard < 10_000; guard++) {
    const w = nextWall(s, wall);
    if (w === undefined) break;
    // Wall time → instant: subtract the zone offset, re-checking it at the candidate instant.
    let instant = w - (wallOf(w, zone) - w);
    instant = w - (wallOf(instant, zone) - instant);
    if (wallOf(instant, zone) === w && instant > after) return instant;
    wall = w + MINUTE;
  }
  throw invalid('never fires (e.g. February 30)');
}
