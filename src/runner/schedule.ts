/**
 * `--schedule`: a CronJob schedule as Kubernetes accepts it (the standard five fields of
 * robfig/cron, or a descriptor such as `@hourly`), checked here so a typo fails at render time,
 * not when the CronJob controller first tries it.
 */
import { OsvError } from '../errors.js';
import { hasNonPrintable, quoteInput } from '../validate/quote.js';

const DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 6, names: DAYS },
];

function value(text: string, f: Field): number | undefined {
  if (/^[0-9]{1,2}$/.test(text)) return Number(text);
  const i = f.names?.indexOf(text.toUpperCase()) ?? -1;
  return i < 0 ? undefined : i + f.min;
}

function fieldProblems(text: string, f: Field): string[] {
  const problems: string[] = [];
  for (const part of text.split(',')) {
    const m = /^(\*|\?|([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?)(?:\/([0-9]{1,2}))?$/.exec(part);
    if (!m) {
      problems.push(`${f.name} ${quoteInput(part)} is not *, a value, a range a-b or a list, with an optional /step`);
      continue;
    }
    const lo = m[2] !== undefined ? value(m[2], f) : f.min;
    const hi = m[3] !== undefined ? value(m[3], f) : lo;
    if (lo === undefined || hi === undefined || lo < f.min || hi > f.max || lo > hi) problems.push(`${f.name} ${quoteInput(part)} is outside ${f.min}-${f.max}`);
    if (m[4] !== undefined && Number(m[4]) < 1) problems.push(`${f.name} ${quoteInput(part)} has a step of 0`);
  }
  return problems;
}

export function cronScheduleProblems(text: string): string[] {
  if (text === '') return ['is empty'];
  if (hasNonPrintable(text) || /[\t\n\r]/.test(text)) return ['contains control or non-ASCII characters'];
  if (/^(CRON_)?TZ=/.test(text)) return ['sets a time zone: Kubernetes refuses TZ= in the schedule (it uses spec.timeZone)'];
  if (text !== text.trim()) return ['has leading or trailing blanks'];
  if (text.startsWith('@')) return DESCRIPTORS.has(text) ? [] : [`${quoteInput(text)} is not one of ${[...DESCRIPTORS].join(', ')}`];
  const parts = text.split(/ +/);
  if (parts.length !== 5) return [`has ${parts.length} fields, not 5 (minute hour day-of-month month day-of-week)`];
  return parts.flatMap((p, i) => fieldProblems(p, FIELDS[i]!));
}

/** A CronJob schedule, or USAGE naming what is wrong. */
export function parseCronSchedule(text: string, what = '--schedule'): string {
  const problems = cronScheduleProblems(text);
  if (problems.length === 0) return text;
  throw new OsvError('USAGE', `${what} ${quoteInput(text)} is not a valid schedule: ${problems.join('; ')}`, {
    details: problems,
    hint: 'Five fields, e.g. "*/5 * * * *" (every five minutes), or @hourly.',
  });
}
