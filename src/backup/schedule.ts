/**
 * When a scheduled backup is due, pure: a 5-field cron (or @daily and the like) in an IANA time
 * zone, through cron-parser. Like a CronJob, a run is named after its scheduled minute, so the
 * run for one time can be made once only, whichever operator replica gets there, and missed
 * times (the operator was down) collapse into the latest one: it runs once.
 */
import { CronExpressionParser } from 'cron-parser';

export interface ScheduleSpec {
  schedule: string;
  /** IANA zone; empty or undefined: UTC, as OpenShift's CronJob runs it. */
  timeZone?: string;
}

function parse(s: ScheduleSpec, currentDate: Date) {
  return CronExpressionParser.parse(s.schedule.trim(), { currentDate, tz: s.timeZone || 'UTC' });
}

/** The newest scheduled time at or before `now`. */
export function lastFireTime(s: ScheduleSpec, now: Date): Date {
  // prev() is strictly before currentDate: ask from just after now so `now` itself counts.
  return parse(s, new Date(now.getTime() + 1)).prev().toDate();
}

export function nextFireTime(s: ScheduleSpec, now: Date): Date {
  return parse(s, now).next().toDate();
}

/**
 * The scheduled time to run now, if any: the newest one at or before `now` that is after
 * `since` (the later of the schedule's creation and its last scheduled run). Several missed
 * times give one run, for the newest.
 */
export function dueTime(s: ScheduleSpec, now: Date, since: Date): Date | undefined {
  if (!s.schedule.trim()) return undefined;
  const t = lastFireTime(s, now);
  return t.getTime() > since.getTime() ? t : undefined;
}

/** Seconds between two consecutive scheduled times around `now`: what "overdue" is measured in. */
export function intervalSeconds(s: ScheduleSpec, now: Date): number {
  const prev = lastFireTime(s, now);
  return (nextFireTime(s, prev).getTime() - prev.getTime()) / 1000;
}

/** The run's name for a scheduled time: `<backup>-<minutes since the epoch>`, as CronJob names Jobs. */
export function runName(backup: string, scheduled: Date): string {
  return `${backup}-${Math.floor(scheduled.getTime() / 60_000)}`;
}
