/**
 * Every tenant-level rejection the schema must make, as data: the pure validation tests and
 * the Pulumi program test (which checks nothing is registered) both run the whole list.
 */
import type { TenantInput } from "../../tenants/schema";
import { tenant } from "./fixtures";

export interface RejectionCase {
  title: string;
  tenants: TenantInput[];
  index: number;
  field: string;
  message: RegExp;
}

export const REJECTIONS: RejectionCase[] = [
  { title: "an id that is not a DNS label", tenants: [tenant({ id: "Acme_Corp" })], index: 0, field: "id", message: /id "Acme_Corp".*not a DNS label/ },
  { title: "an id starting with a digit (Service names must start with a letter)", tenants: [tenant({ id: "1acme" })], index: 0, field: "id", message: /not a DNS label/ },
  { title: "an id too long for tenant-<id> and derived names", tenants: [tenant({ id: "a".repeat(57) })], index: 0, field: "id", message: /57 characters; at most 40.*tenant-<id>/ },
  { title: "an id with shell metacharacters", tenants: [tenant({ id: "x;rm -rf /" })], index: 0, field: "id", message: /not a DNS label/ },
  ...["www", "api", "admin", "default", "system", "kube-system", "kube-public"].map((id) => ({
    title: `the reserved id "${id}"`, tenants: [tenant({ id })], index: 0, field: "id", message: /reserved/,
  })),
  { title: "duplicate ids", tenants: [tenant({ id: "acme" }), tenant({ id: "acme" })], index: 1, field: "id", message: /duplicate id: tenants\[0\] already uses "acme"/ },
  {
    title: "a custom domain equal to another tenant's host",
    tenants: [tenant({ id: "acme" }), tenant({ id: "globex", customDomains: ["acme.odoo-saas.test"] })],
    index: 1, field: "customDomains[0]", message: /duplicate host "acme.odoo-saas.test": already served for tenants\[0\]/,
  },
  {
    title: "the same custom domain on two tenants",
    tenants: [tenant({ id: "acme", customDomains: ["erp.example.com"] }), tenant({ id: "globex", customDomains: ["erp.example.com"] })],
    index: 1, field: "customDomains[0]", message: /duplicate host "erp.example.com"/,
  },
  { title: "an unknown plan", tenants: [tenant({ id: "acme", plan: "platinum" })], index: 0, field: "plan", message: /unknown plan "platinum" \(plans: starter, business\)/ },
  { title: "an unsupported Odoo version", tenants: [{ ...tenant({ id: "acme" }), odooVersion: "16.0" as never }], index: 0, field: "odooVersion", message: /must be one of 17.0, 18.0/ },
  { title: "a malformed e-mail", tenants: [tenant({ id: "acme", adminEmail: "not-an-email" })], index: 0, field: "adminEmail", message: /must be an e-mail address/ },
  { title: "a malformed cron schedule", tenants: [tenant({ id: "acme", backup: { schedule: "61 * * * *" } })], index: 0, field: "backup.schedule", message: /malformed cron schedule: minute "61"/ },
  { title: "the retired backup.keep, saying what replaced it", tenants: [tenant({ id: "acme", backup: { keep: 7 as never } })], index: 0, field: "backup.keep", message: /keep was replaced by retention: \{ daily, weekly, monthly, onDemand \}/ },
  { title: "a negative retention count", tenants: [tenant({ id: "acme", backup: { retention: { daily: -1 } } })], index: 0, field: "backup.retention.daily", message: /must be a whole number from 0 to 1000/ },
  { title: "a fractional retention count", tenants: [tenant({ id: "acme", backup: { retention: { weekly: 2.5 } } })], index: 0, field: "backup.retention.weekly", message: /must be a whole number from 0 to 1000/ },
  { title: "a retention count above the bound", tenants: [tenant({ id: "acme", backup: { retention: { monthly: 1001 } } })], index: 0, field: "backup.retention.monthly", message: /must be a whole number from 0 to 1000/ },
  { title: "a retention count that is not a number", tenants: [tenant({ id: "acme", backup: { retention: { onDemand: "5" as never } } })], index: 0, field: "backup.retention.onDemand", message: /must be a whole number from 0 to 1000/ },
  {
    title: "a retention with daily, weekly and monthly all 0",
    tenants: [tenant({ id: "acme" }), tenant({ id: "globex", backup: { retention: { daily: 0, weekly: 0, monthly: 0, onDemand: 9 } } })],
    index: 1, field: "backup.retention", message: /daily, weekly and monthly are all 0/,
  },
  { title: "an unknown retention key", tenants: [tenant({ id: "acme", backup: { retention: { yearly: 1 } as never } })], index: 0, field: "backup.retention.yearly", message: /unknown key/ },
  { title: "an unknown key on a tenant (a typo is never ignored)", tenants: [{ ...tenant({ id: "acme" }), suspend: true } as never], index: 0, field: "suspend", message: /unknown key/ },
  { title: "an unknown key in a nested object", tenants: [{ ...tenant({ id: "acme" }), backup: { schedule: "0 3 * * *", schedul: "0 1 * * *" } } as never], index: 0, field: "backup.schedul", message: /unknown key/ },
  // Names every JavaScript object already has are data: a missing plan, never Object.prototype's member.
  ...["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"].map((plan) => ({
    title: `the plan name "${plan}" (a name every object has)`, tenants: [tenant({ id: "acme", plan })], index: 0, field: "plan",
    message: new RegExp(`unknown plan "${plan}" \\(plans: starter, business\\)`),
  })),
  ...["toString", "constructor", "__proto__"].map((odooVersion) => ({
    title: `the Odoo version "${odooVersion}"`, tenants: [{ ...tenant({ id: "acme" }), odooVersion: odooVersion as never }], index: 0, field: "odooVersion", message: /must be one of 17.0, 18.0/,
  })),
  {
    // JSON.parse (a request body, a JSON config value) makes "__proto__" an own key: unknown like any typo.
    title: "an own \"__proto__\" key on a tenant", tenants: [JSON.parse('{"id":"acme","adminEmail":"it@acme.example","plan":"starter","__proto__":{"plan":"business"}}') as never],
    index: 0, field: "__proto__", message: /unknown key/,
  },
];
