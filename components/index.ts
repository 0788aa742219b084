export * from "./odoo-tenant";
export * from "./tenant-args";
export * from "./platform";
export { tenantNames } from "./naming";
