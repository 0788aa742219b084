import { expect } from "chai";
import { cronProblem } from "../../tenants/cron";

describe("cron schedules (Kubernetes 5-field form)", () => {
  for (const ok of ["0 2 * * *", "*/15 * * * *", "0 0-6/2 1,15 * MON-FRI", "30 1 * JAN,jul sun", "@daily", "0 0 * * 7"]) {
    it(`accepts "${ok}"`, () => expect(cronProblem(ok)).to.equal(undefined));
  }
  const bad: Array<[string, RegExp]> = [
    ["0 2 * *", /expected 5 fields/],
    ["0 0 2 * * *", /expected 5 fields/],
    ["60 * * * *", /minute "60" is outside 0-59/],
    ["0 24 * * *", /hour/],
    ["0 0 0 * *", /day of month/],
    ["0 0 * 13 *", /month/],
    ["0 0 * * 8", /day of week/],
    ["*/0 * * * *", /bad step/],
    ["5-1 * * * *", /runs backwards/],
    ["@sometimes", /unknown macro/],
    ["", /non-empty/],
    ["CRON_TZ=UTC 0 2 * * *", /timeZone/],
    ["0 2 * * * ; rm -rf /", /expected 5 fields/],
  ];
  for (const [schedule, why] of bad) {
    it(`rejects "${schedule}"`, () => expect(cronProblem(schedule)).to.match(why));
  }
});
