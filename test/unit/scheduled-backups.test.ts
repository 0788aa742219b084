/** A backup CronJob's last run, told from the status Kubernetes records on it. */
import { expect } from "chai";
import { lastRunOf, summarizeBackups } from "../../automation/scheduled-backups";

const at = (iso: string): Date => new Date(iso);

describe("scheduled backups: the last run from a CronJob's status", () => {
  it("is succeeded when the last success is at or after the last schedule, failed when a later run did not succeed", () => {
    expect(lastRunOf({ active: false, lastSchedule: at("2026-12-07T02:00:00Z"), lastSuccess: at("2026-12-07T02:00:41Z") })).to.equal("succeeded");
    expect(lastRunOf({ active: false, lastSchedule: at("2026-12-07T02:00:00Z"), lastSuccess: at("2026-12-06T02:00:39Z") })).to.equal("failed");
    expect(lastRunOf({ active: false, lastSchedule: at("2026-12-07T02:00:00Z"), lastSuccess: undefined })).to.equal("failed");
    expect(lastRunOf({ active: true, lastSchedule: at("2026-12-07T02:00:00Z"), lastSuccess: at("2026-12-06T02:00:39Z") })).to.equal("running");
    expect(lastRunOf({ active: false, lastSchedule: undefined, lastSuccess: undefined })).to.equal("not_run_yet");
  });

  it("counts every outcome (zeros included) and the age of the oldest last success", () => {
    const now = at("2026-12-07T12:00:00Z").getTime();
    const reading = summarizeBackups([
      { active: false, lastSchedule: at("2026-12-07T02:00:00Z"), lastSuccess: at("2026-12-07T02:01:00Z") },
      { active: false, lastSchedule: at("2026-12-07T02:00:00Z"), lastSuccess: at("2026-12-06T02:01:00Z") },
      { active: false, lastSchedule: undefined, lastSuccess: undefined },
    ], now);
    expect([...reading.byLastRun]).to.deep.equal([["succeeded", 1], ["failed", 1], ["running", 0], ["not_run_yet", 1]]);
    expect(reading.oldestSuccessAgeSeconds).to.equal(34 * 3600 - 60);
    expect(summarizeBackups([], now).oldestSuccessAgeSeconds).to.equal(undefined);
  });
});
