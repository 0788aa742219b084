/**
 * Validation of CronJob schedules in the 5-field form Kubernetes accepts
 * (minute hour day-of-month month day-of-week), plus its @-macros.
 * Kubernetes rejects 6-field (seconds) schedules, so general cron libraries are too lax.
 */

const MACROS = new Set(["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"]);

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] },
  // 7 is Sunday too, as in Kubernetes' cron parser.
  { name: "day of week", min: 0, max: 7, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] },
];

function parseValue(raw: string, spec: FieldSpec): number | undefined {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    return n >= spec.min && n <= spec.max ? n : undefined;
  }
  const idx = spec.names?.indexOf(raw.toUpperCase()) ?? -1;
  if (idx < 0) return undefined;
  // Month names start at 1, weekday names at 0.
  return spec.name === "month" ? idx + 1 : idx;
}

function checkField(field: string, spec: FieldSpec): string | undefined {
  for (const part of field.split(",")) {
    const [range, step, extra] = part.split("/");
    if (extra !== undefined || range === undefined || range === "") return `bad ${spec.name} "${part}"`;
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return `bad step in ${spec.name} "${part}"`;
    if (range === "*" || range === "?") continue;
    const bounds = range.split("-");
    if (bounds.length > 2) return `bad range in ${spec.name} "${part}"`;
    const values = bounds.map((b) => parseValue(b, spec));
    if (values.some((v) => v === undefined)) {
      return `${spec.name} "${part}" is outside ${spec.min}-${spec.max}`;
    }
    if (values.length === 2 && (values[0] as number) > (values[1] as number)) {
      return `range "${part}" in ${spec.name} runs backwards`;
    }
  }
  return undefined;
}

/** Returns undefined for a valid schedule, else the reason it is invalid. */
export function cronProblem(schedule: string): string | undefined {
  const trimmed = schedule.trim();
  if (trimmed !== schedule || trimmed === "") return "must be a non-empty schedule without surrounding spaces";
  if (trimmed.startsWith("@")) {
    return MACROS.has(trimmed) ? undefined : `unknown macro "${trimmed}"`;
  }
  if (/^(TZ|CRON_TZ)=/.test(trimmed)) {
    return "time zones belong in the CronJob's timeZone field, not in the schedule";
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  for (let i = 0; i < FIELDS.length; i++) {
    const problem = checkField(fields[i] as string, FIELDS[i] as FieldSpec);
    if (problem) return problem;
  }
  return undefined;
}
