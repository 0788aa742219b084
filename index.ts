/**
 * The Pulumi program (`pulumi up`): validates the `odoo-saas:*` stack config with the one
 * schema, then creates one OdooTenant per tenant. Outputs: a summary per tenant, with the
 * administrator password as a secret.
 */
import { odooSaasProgram } from "./components/platform";

export const tenants = odooSaasProgram().tenants;
