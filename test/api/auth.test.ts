/**
 * Authentication on the real HTTP server: Supabase access tokens verified locally (JWKS
 * with ES256, and the legacy HS256 secret), signed here with test keys by the Supabase Auth
 * stand-in (Supabase Auth cannot run on this machine). No switch skips verification.
 */
import { expect } from "chai";
import { UnsecuredJWT } from "jose";
import { Harness, userId } from "../support/signup-harness";
import { startAuthStandIn, type AuthStandIn } from "../../local/local-supabase-auth";

function expectApiError(res: { status: number; body: unknown; headers: Record<string, unknown> }, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  expect(res.headers["content-type"]).to.match(/^application\/json/);
  const body = res.body as { error: { code: string; message: string } };
  expect(body.error.code).to.equal(code);
  expect(body.error.message).to.be.a("string").and.not.equal("");
}

describe("signup API authentication (real server, stand-in program)", function () {
  this.timeout(120_000);
  let auth: AuthStandIn;
  let both: Harness;

  before(async () => {
    auth = await startAuthStandIn();
    both = await Harness.start({ auth, modes: ["jwks", "hs256"] });
  });
  after(async () => {
    await both.close();
    await auth.close();
  });

  const sub = userId("alice");
  const list = (token?: string) => both.request("GET", "/api/tenants", token !== undefined ? { token } : {});

  it("accepts an ES256 token verified through the JWKS", async () => {
    const res = await list(await auth.sign({ sub, email: "alice@example.com" }));
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ tenants: [], limit: { used: 0, max: 3, storage: { usedGb: 0, keptGb: 0, maxGb: 150 } } });
  });

  it("accepts an HS256 token verified with the legacy secret", async () => {
    expect((await list(await auth.sign({ sub, email: "alice@example.com", alg: "HS256" }))).status).to.equal(200);
  });

  it("401 without a token, with a WWW-Authenticate challenge", async () => {
    const res = await list();
    expectApiError(res, 401, "missing_token");
    expect(res.headers["www-authenticate"]).to.match(/^Bearer /);
  });

  it("401 for a header that is not a bearer JWT", async () => {
    expectApiError(await both.request("GET", "/api/tenants", { headers: { Authorization: "Basic YWxpY2U6c2VjcmV0" } }), 401, "invalid_token");
    expectApiError(await both.request("GET", "/api/tenants", { headers: { Authorization: "Bearer not-a-jwt" } }), 401, "invalid_token");
  });

  it("401 for an expired token", async () => {
    expectApiError(await list(await auth.sign({ sub, expiresInSeconds: -120 })), 401, "token_expired");
    expectApiError(await list(await auth.sign({ sub, alg: "HS256", expiresInSeconds: -120 })), 401, "token_expired");
  });

  it("401 for a wrong issuer", async () => {
    expectApiError(await list(await auth.sign({ sub, issuer: "https://evil.example/auth/v1" })), 401, "invalid_token");
    expectApiError(await list(await auth.sign({ sub, alg: "HS256", issuer: "supabase" })), 401, "invalid_token");
  });

  it("401 for a wrong audience (e.g. the anon key's role)", async () => {
    expectApiError(await list(await auth.sign({ sub, audience: "anon" })), 401, "invalid_token");
  });

  it("401 for a bad signature (another key under the published kid)", async () => {
    expectApiError(await list(await auth.sign({ sub, wrongKey: true })), 401, "invalid_token");
  });

  it("401 for a token whose payload was altered after signing", async () => {
    const token = await auth.sign({ sub, email: "alice@example.com" });
    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
    claims.app_metadata = { role: "admin" };
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
    expectApiError(await list(forged), 401, "invalid_token");
  });

  it("401 for an unsigned token (alg none)", async () => {
    const unsigned = new UnsecuredJWT({ sub }).setIssuer(auth.issuer).setAudience("authenticated").setExpirationTime("1h").encode();
    expectApiError(await both.request("GET", "/api/tenants", { headers: { Authorization: `Bearer ${unsigned}x` } }), 401, "invalid_token");
  });

  it("401 for an HS256 token signed with another secret", async () => {
    const other = await startAuthStandIn();
    try {
      expectApiError(await list(await other.sign({ sub, alg: "HS256", issuer: auth.issuer })), 401, "invalid_token");
    } finally {
      await other.close();
    }
  });

  it("does not take admin rights from user_metadata (users can write it)", async () => {
    const token = await auth.sign({ sub, email: "alice@example.com", extraClaims: { user_metadata: { role: "admin" } } });
    expectApiError(await both.request("GET", "/api/admin/tenant-ids", { token }), 403, "forbidden");
    const admin = await auth.sign({ sub: userId("root"), email: "root@example.com", admin: true });
    expect((await both.request("GET", "/api/admin/tenant-ids", { token: admin })).status).to.equal(200);
  });

  it("403 anonymous_not_allowed for a Supabase anonymous sign-in (role authenticated, is_anonymous true), on every route; nothing is queued", async () => {
    const anon = await auth.sign({ sub: userId("anon"), extraClaims: { role: "authenticated", is_anonymous: true } });
    const anonHs = await auth.sign({ sub: userId("anon"), alg: "HS256", extraClaims: { role: "authenticated", is_anonymous: true } });
    for (const token of [anon, anonHs]) {
      const created = await both.request("POST", "/api/tenants", { token, body: { id: "anon-shop", plan: "starter" } });
      expectApiError(created, 403, "anonymous_not_allowed");
      expectApiError(await both.request("GET", "/api/tenants", { token }), 403, "anonymous_not_allowed");
      expectApiError(await both.request("GET", "/api/check-id?id=anon-shop", { token }), 403, "anonymous_not_allowed");
    }
    // Even with an e-mail address on the token: the claim decides.
    const withEmail = await auth.sign({ sub: userId("anon"), email: "anon@example.com", extraClaims: { is_anonymous: true } });
    expectApiError(await both.request("POST", "/api/tenants", { token: withEmail, body: { id: "anon-shop", plan: "starter" } }), 403, "anonymous_not_allowed");
    const admin = await auth.sign({ sub: userId("root"), email: "root@example.com", admin: true });
    const all = await both.request<{ tenants: Array<{ id: string }> }>("GET", "/api/tenants", { token: admin });
    expect(all.body.tenants.map((t) => t.id)).to.not.include("anon-shop");
    // A permanent user (is_anonymous false) is unaffected.
    expect((await list(await auth.sign({ sub, email: "alice@example.com", extraClaims: { is_anonymous: false } }))).status).to.equal(200);
  });

  it("needs no token for the page, its config, the public config and the health checks", async () => {
    for (const path of ["/", "/js/main.js", "/js/progress.js", "/style.css", "/config.js", "/vendor/supabase.js", "/api/config/public", "/healthz", "/readyz"]) {
      const res = await both.request("GET", path);
      expect(res.status, path).to.equal(200);
    }
    // The page's ES modules: a JavaScript type (browsers refuse modules otherwise, with nosniff) and the page's CSP.
    const module = await both.request("GET", "/js/main.js");
    expect(module.headers["content-type"]).to.equal("text/javascript; charset=utf-8");
    expect(module.headers["x-content-type-options"]).to.equal("nosniff");
    expect(module.headers["content-security-policy"]).to.contain("script-src 'self'");
    // Only the folder's own modules, nothing else by that route.
    for (const path of ["/js/missing.js", "/js/..%2Fstyle.css", "/app.js"]) expect((await both.request("GET", path)).status, path).to.equal(404);
    const ready = await both.request("GET", "/readyz");
    expect(ready.body).to.deep.equal({ status: "ready", checks: { cli: true, database: true } });
  });

  describe("single-mode servers", () => {
    it("an HS256-only server refuses ES256 tokens, a JWKS-only server refuses HS256 tokens", async () => {
      const hsOnly = await Harness.start({ auth, modes: ["hs256"] });
      try {
        expectApiError(await hsOnly.request("GET", "/api/tenants", { token: await auth.sign({ sub }) }), 401, "invalid_token");
        expect((await hsOnly.request("GET", "/api/tenants", { token: await auth.sign({ sub, alg: "HS256" }) })).status).to.equal(200);
      } finally {
        await hsOnly.close();
      }
      const jwksOnly = await Harness.start({ auth, modes: ["jwks"] });
      try {
        expectApiError(await jwksOnly.request("GET", "/api/tenants", { token: await auth.sign({ sub, alg: "HS256" }) }), 401, "invalid_token");
        expect((await jwksOnly.request("GET", "/api/tenants", { token: await auth.sign({ sub }) })).status).to.equal(200);
      } finally {
        await jwksOnly.close();
      }
    });
  });
});
