/**
 * Settings that decide whom and what the signup server trusts: anonymous Supabase sign-ins
 * (refused unless ODOO_SAAS_ALLOW_ANONYMOUS=true) and the engine's secrets (`npm run serve`
 * refuses to start without an explicit passphrase or secrets provider).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { SignJWT } from "jose";
import { ApiError } from "../../automation/api-error";
import { Authenticator, parseAdminClaim } from "../../automation/auth";
import { ConfigProblem, configFromEnv, engineSecretsSetting } from "../../automation/server-config";

const SECRET = "a-test-secret-that-is-long-enough-for-hs256";
const ISSUER = "https://ref.supabase.test/auth/v1";

function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ role: "authenticated", ...claims })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject("8c6f2a1e-0000-4000-a000-000000000001")
    .setIssuer(ISSUER)
    .setAudience("authenticated")
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(SECRET));
}

function authenticator(allowAnonymous?: boolean): Authenticator {
  return new Authenticator({
    issuer: ISSUER, audience: "authenticated", hs256Secret: SECRET, adminClaim: parseAdminClaim("app_metadata.role=admin"),
    ...(allowAnonymous !== undefined ? { allowAnonymous } : {}),
  });
}

describe("trust settings of the signup server", () => {
  describe("anonymous Supabase sign-ins", () => {
    it("are refused by default with 403 anonymous_not_allowed", async () => {
      const bearer = `Bearer ${await token({ is_anonymous: true })}`;
      for (const auth of [authenticator(), authenticator(false)]) {
        let error: unknown;
        try {
          await auth.authenticate(bearer);
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(ApiError);
        expect((error as ApiError).status).to.equal(403);
        expect((error as ApiError).body().error.code).to.equal("anonymous_not_allowed");
      }
    });

    it("are accepted when allowed; permanent users always are", async () => {
      const anon = await authenticator(true).authenticate(`Bearer ${await token({ is_anonymous: true })}`);
      expect(anon.sub).to.equal("8c6f2a1e-0000-4000-a000-000000000001");
      const user = await authenticator().authenticate(`Bearer ${await token({ is_anonymous: false, email: "a@b.example" })}`);
      expect(user.email).to.equal("a@b.example");
    });

    it("ODOO_SAAS_ALLOW_ANONYMOUS: false by default, true or false only", () => {
      const base = { SUPABASE_URL: "https://ref.supabase.test" };
      expect(configFromEnv(base, "/nowhere").allowAnonymous).to.equal(false);
      expect(configFromEnv({ ...base, ODOO_SAAS_ALLOW_ANONYMOUS: "true" }, "/nowhere").allowAnonymous).to.equal(true);
      expect(configFromEnv({ ...base, ODOO_SAAS_ALLOW_ANONYMOUS: "false" }, "/nowhere").allowAnonymous).to.equal(false);
      expect(() => configFromEnv({ ...base, ODOO_SAAS_ALLOW_ANONYMOUS: "yes" }, "/nowhere")).to.throw(ConfigProblem, /ODOO_SAAS_ALLOW_ANONYMOUS must be true or false/);
    });
  });

  describe("engine secrets for `npm run serve`", () => {
    it("need an explicit passphrase, passphrase file or secrets provider", () => {
      expect(() => engineSecretsSetting({})).to.throw(ConfigProblem, /PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE/);
      expect(() => engineSecretsSetting({ PULUMI_CONFIG_PASSPHRASE: "" })).to.throw(ConfigProblem);
      expect(engineSecretsSetting({ PULUMI_CONFIG_PASSPHRASE: "s3cret-value" })).to.equal("passphrase from PULUMI_CONFIG_PASSPHRASE");
      expect(engineSecretsSetting({ PULUMI_CONFIG_PASSPHRASE_FILE: "/run/secrets/pp" })).to.equal("passphrase from PULUMI_CONFIG_PASSPHRASE_FILE");
      // The provider URL's query may carry parameters; only its scheme and path are shown.
      expect(engineSecretsSetting({ ODOO_SAAS_SECRETS_PROVIDER: "awskms://alias/odoo?region=eu-west-1" })).to.equal("secrets provider awskms://alias/odoo");
    });

    it("server-main refuses to start without them, touching no state, and never prints a passphrase", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "serve-secrets-"));
      const storeDir = path.join(dir, "store");
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH, SUPABASE_URL: "https://ref.supabase.test", ODOO_SAAS_STORE_DIR: storeDir,
        ODOO_SAAS_BACKEND_DIR: path.join(dir, "backend"), ODOO_SAAS_PULUMI_HOME: path.join(dir, "home"), PORT: "0", KUBECONFIG: "none",
      };
      const main = path.resolve(__dirname, "../../automation/server-main.js");
      const run = spawnSync(process.execPath, [main], { env, encoding: "utf8", timeout: 20_000 });
      expect(run.status, run.stderr).to.equal(2);
      expect(run.stderr).to.contain("PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE");
      expect(run.stderr).to.contain("serve:local");
      expect(fs.readdirSync(dir)).to.deep.equal([]);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it("server-main refuses to start without DATABASE_URL, naming it, touching no state", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "serve-database-"));
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH, SUPABASE_URL: "https://ref.supabase.test", ODOO_SAAS_STORE_DIR: path.join(dir, "store"),
        ODOO_SAAS_BACKEND_DIR: path.join(dir, "backend"), ODOO_SAAS_PULUMI_HOME: path.join(dir, "home"), PORT: "0", KUBECONFIG: "none",
        PULUMI_CONFIG_PASSPHRASE: "a-passphrase-for-this-test",
      };
      const main = path.resolve(__dirname, "../../automation/server-main.js");
      const run = spawnSync(process.execPath, [main], { env, encoding: "utf8", timeout: 20_000 });
      expect(run.status, run.stderr).to.equal(2);
      expect(run.stderr).to.contain("DATABASE_URL is required");
      expect(run.stderr).to.contain("serve:local");
      expect(run.stderr + run.stdout).to.not.contain("a-passphrase-for-this-test");
      expect(fs.readdirSync(dir)).to.deep.equal([]);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
});
