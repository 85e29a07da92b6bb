/**
 * UTC calendar days as "YYYY-MM-DD", the key of the daily P&L. Computed from the UTC fields of
 * the instant, never the local time zone, so a fill at 23:59:59.999Z and one at 00:00:00.000Z land
 * on different days wherever the service runs.
 */

const dayMs = 86_400_000;

/** The default number of days of a daily P&L window. */
export const DEFAULT_WINDOW_DAYS = 30;
/** The most days a window holds (the API's limit: a leap year). */
export const MAX_WINDOW_DAYS = 366;

/** The UTC day of `instant` as "YYYY-MM-DD". */
export function utcDay(instant: Date): string {
  const time = instant.getTime();
  if (Number.isNaN(time)) throw new RangeError("utcDay: invalid Date");
  const year = String(instant.getUTCFullYear()).padStart(4, "0");
  const month = String(instant.getUTCMonth() + 1).padStart(2, "0");
  const day = String(instant.getUTCDate()).padStart(2, "0");
  return `${year}-${month}-${day}`;
}

/**
 * The `days` UTC days ending with the day of `today`, oldest first. `days` 0 means
 * {@link DEFAULT_WINDOW_DAYS}, as in `GetDailyPnlRequest`; a RangeError for anything that is not an
 * integer from 0 to {@link MAX_WINDOW_DAYS}.
 */
export function windowDays(today: Date, days: number = DEFAULT_WINDOW_DAYS): string[] {
  if (!Number.isInteger(days) || days < 0 || days > MAX_WINDOW_DAYS) {
    throw new RangeError(`days must be an integer from 0 to ${MAX_WINDOW_DAYS}, got ${days}`);
  }
  const count = days === 0 ? DEFAULT_WINDOW_DAYS : days;
  const todayStart = Math.floor(today.getTime() / dayMs) * dayMs;
  if (Number.isNaN(todayStart)) throw new RangeError("windowDays: invalid Date");
  const result: string[] = [];
  // UTC has no daylight saving: every day is exactly dayMs long.
  for (let offset = count - 1; offset >= 0; offset--) result.push(utcDay(new Date(todayStart - offset * dayMs)));
  return result;
}
