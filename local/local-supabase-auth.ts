/**
 * STAND-IN for Supabase's hosted Auth service (GoTrue): the embedded default's local test
 * JWKS (`npm run serve:local`) and the tests' auth server. Never used with a real project.
 *
 * Supabase Auth cannot run on this machine (its Go module is refused by the module proxy),
 * so serve:local and the tests start this small HTTP server on 127.0.0.1 instead. It implements just the endpoints supabase-js calls for e-mail/password
 * accounts, with GoTrue's request and response shapes:
 *   POST /auth/v1/signup, POST /auth/v1/token?grant_type=password|refresh_token,
 *   GET /auth/v1/user, PUT /auth/v1/user (a new password), POST /auth/v1/logout,
 *   POST /auth/v1/recover (password reset: no e-mail is sent; the link GoTrue would mail, with
 *   the implicit flow's `#access_token=…&refresh_token=…&type=recovery`, is kept in
 *   recoveryLinks), GET /auth/v1/.well-known/jwks.json
 * and issues REAL ES256 JWTs (Supabase's claims: iss, aud "authenticated", exp, iat, sub,
 * email, role, aal, session_id, app_metadata, user_metadata, is_anonymous) signed with a
 * key generated per run, published in the JWKS. `sign()` also mints tokens directly for the
 * API tests, including broken ones (expired, wrong issuer/audience, wrong key) and HS256
 * tokens signed with the legacy shared secret. The signup server verifies all of them with
 * its normal code path: there is no "skip auth" switch anywhere.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from "jose";
import { RouteTable } from "../automation/http-io";

/** One request to the stand-in: its body read (JSON, lenient as GoTrue), GoTrue's answer shapes. */
interface AuthRequest {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  /** `email` is body.email trimmed and lower-cased; both "" when absent. */
  body: Record<string, unknown>; email: string; password: string;
  cors: Record<string, string>;
  reply: (status: number, body?: unknown) => void;
  fail: (status: number, errorCode: string, msg: string) => void;
}

export interface SignOptions {
  sub: string;
  email?: string;
  /** app_metadata.role = "admin" */
  admin?: boolean;
  alg?: "ES256" | "HS256";
  /** Seconds until expiry; negative for an already expired token. Default 3600. */
  expiresInSeconds?: number;
  issuer?: string;
  audience?: string;
  /** Sign with a different key that claims the same kid: the signature does not verify. */
  wrongKey?: boolean;
  extraClaims?: Record<string, unknown>;
}

interface User {
  id: string;
  email: string;
  salt: Buffer;
  hash: Buffer;
  createdAt: string;
}

export interface AuthStandIn {
  /** The "Supabase URL": http://127.0.0.1:<port> */
  url: string;
  issuer: string;
  audience: string;
  jwksUrl: string;
  hs256Secret: string;
  /** E-mail addresses whose tokens carry app_metadata.role = "admin". */
  admins: Set<string>;
  sign(options: SignOptions): Promise<string>;
  /** Requests seen, by "METHOD path". */
  requests: string[];
  /** E-mail addresses a password reset was asked for (GoTrue would mail them a link). */
  recoveries: string[];
  /** The recovery link GoTrue would have mailed, by e-mail address (accounts only). */
  recoveryLinks: Map<string, string>;
  /** Every refresh token stops working (a session ended elsewhere): the next renewal fails. */
  revokeRefreshTokens(): void;
  close(): Promise<void>;
}

const KID = "standin-es256-1";

export async function startAuthStandIn(): Promise<AuthStandIn> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const other = await generateKeyPair("ES256");
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid: KID, alg: "ES256", use: "sig" };
  const hs256Secret = crypto.randomBytes(32).toString("base64url");
  const users = new Map<string, User>();
  const refreshTokens = new Map<string, string>();
  const admins = new Set<string>();
  const requests: string[] = [];
  const recoveries: string[] = [];
  const recoveryLinks = new Map<string, string>();
  let base = "";

  const issuer = (): string => `${base}/auth/v1`;

  async function sign(options: SignOptions): Promise<string> {
    const alg = options.alg ?? "ES256";
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (options.expiresInSeconds ?? 3600);
    const claims = {
      email: options.email ?? "",
      phone: "",
      role: "authenticated",
      aal: "aal1",
      amr: [{ method: "password", timestamp: now }],
      session_id: crypto.randomUUID(),
      is_anonymous: false,
      app_metadata: { provider: "email", providers: ["email"], ...(options.admin ? { role: "admin" } : {}) },
      user_metadata: {},
      ...(options.extraClaims ?? {}),
    };
    const jwt = new SignJWT(claims)
      .setProtectedHeader(alg === "HS256" ? { alg, typ: "JWT" } : { alg, kid: KID, typ: "JWT" })
      .setSubject(options.sub)
      .setIssuer(options.issuer ?? issuer())
      .setAudience(options.audience ?? "authenticated")
      .setIssuedAt(Math.min(now, exp - 1))
      .setExpirationTime(exp);
    if (alg === "HS256") return jwt.sign(new TextEncoder().encode(hs256Secret));
    return jwt.sign((options.wrongKey ? other.privateKey : privateKey) as CryptoKey);
  }

  function userJson(user: User): Record<string, unknown> {
    return {
      id: user.id,
      aud: "authenticated",
      role: "authenticated",
      email: user.email,
      email_confirmed_at: user.createdAt,
      phone: "",
      confirmed_at: user.createdAt,
      last_sign_in_at: new Date().toISOString(),
      app_metadata: { provider: "email", providers: ["email"], ...(admins.has(user.email) ? { role: "admin" } : {}) },
      user_metadata: {},
      identities: [],
      created_at: user.createdAt,
      updated_at: user.createdAt,
      is_anonymous: false,
    };
  }

  async function session(user: User): Promise<Record<string, unknown>> {
    const expiresIn = 3600;
    const refresh = crypto.randomBytes(16).toString("hex");
    refreshTokens.set(refresh, user.email);
    return {
      access_token: await sign({ sub: user.id, email: user.email, admin: admins.has(user.email) }),
      token_type: "bearer",
      expires_in: expiresIn,
      expires_at: Math.floor(Date.now() / 1000) + expiresIn,
      refresh_token: refresh,
      user: userJson(user),
    };
  }

  const hash = (password: string, salt: Buffer): Buffer => crypto.scryptSync(password, salt, 32);

  // GoTrue's endpoints, declared as the signup server declares its own (automation/http-io.ts).
  const routes = new RouteTable<AuthRequest>();
  const bearer = (req: http.IncomingMessage): string => /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? "";
  routes.add("GET", "/auth/v1/\\.well-known/jwks\\.json", async ({ reply }) => reply(200, { keys: [publicJwk] }));
  routes.add("POST", "/auth/v1/signup", async ({ email, password, reply, fail }) => {
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return fail(400, "validation_failed", "Unable to validate email address: invalid format");
    if (password.length < 6) return fail(422, "weak_password", "Password should be at least 6 characters.");
    if (users.has(email)) return fail(422, "user_already_exists", "User already registered");
    const salt = crypto.randomBytes(16);
    const user: User = { id: crypto.randomUUID(), email, salt, hash: hash(password, salt), createdAt: new Date().toISOString() };
    users.set(email, user);
    reply(200, await session(user));
  });
  routes.add("POST", "/auth/v1/token", async ({ url, body, email, password, reply, fail }) => {
    const grant = url.searchParams.get("grant_type");
    if (grant === "password") {
      const user = users.get(email);
      if (!user || !crypto.timingSafeEqual(user.hash, hash(password, user.salt))) return fail(400, "invalid_credentials", "Invalid login credentials");
      reply(200, await session(user));
    } else if (grant === "refresh_token") {
      const token = typeof body.refresh_token === "string" ? body.refresh_token : "";
      const owner = refreshTokens.get(token);
      const user = owner !== undefined ? users.get(owner) : undefined;
      if (!user) return fail(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found");
      refreshTokens.delete(token);
      reply(200, await session(user));
    } else {
      fail(400, "unsupported_grant_type", "unsupported grant_type");
    }
  });
  routes.add("GET", "/auth/v1/user", async ({ req, reply, fail }) => {
    try {
      const { payload } = await jwtVerify(bearer(req), publicKey, { issuer: issuer(), audience: "authenticated" });
      const user = [...users.values()].find((u) => u.id === payload.sub);
      if (!user) return fail(403, "user_not_found", "User from sub claim in JWT does not exist");
      reply(200, userJson(user));
    } catch {
      fail(403, "bad_jwt", "invalid JWT");
    }
  });
  routes.add("POST", "/auth/v1/recover", async ({ url, email, reply, fail }) => {
    // GoTrue answers 200 whether or not the address has an account (no account probing).
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return fail(400, "validation_failed", "Unable to validate email address: invalid format");
    recoveries.push(email);
    const user = users.get(email);
    const redirect = url.searchParams.get("redirect_to") ?? `${base}/`;
    if (user) {
      const s = await session(user);
      const params = new URLSearchParams({
        access_token: String(s.access_token), expires_at: String(s.expires_at), expires_in: String(s.expires_in),
        refresh_token: String(s.refresh_token), token_type: "bearer", type: "recovery",
      });
      recoveryLinks.set(email, `${redirect}#${params.toString()}`);
    }
    reply(200, {});
  });
  routes.add("PUT", "/auth/v1/user", async ({ req, password, reply, fail }) => {
    let sub: string | undefined;
    try {
      sub = (await jwtVerify(bearer(req), publicKey, { issuer: issuer(), audience: "authenticated" })).payload.sub;
    } catch {
      return fail(403, "bad_jwt", "invalid JWT");
    }
    const user = [...users.values()].find((u) => u.id === sub);
    if (!user) return fail(403, "user_not_found", "User from sub claim in JWT does not exist");
    if (password !== "") {
      if (password.length < 6) return fail(422, "weak_password", "Password should be at least 6 characters.");
      if (crypto.timingSafeEqual(user.hash, hash(password, user.salt))) return fail(422, "same_password", "New password should be different from the old password.");
      user.salt = crypto.randomBytes(16);
      user.hash = hash(password, user.salt);
    }
    reply(200, userJson(user));
  });
  routes.add("POST", "/auth/v1/logout", async ({ res, cors }) => void res.writeHead(204, cors).end());
  const table = routes.compiled();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    requests.push(`${req.method ?? ""} ${url.pathname}`);
    const cors = {
      "Access-Control-Allow-Origin": req.headers.origin ?? "*",
      "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] ?? "authorization, apikey, content-type, x-client-info",
      "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
      "Access-Control-Max-Age": "600",
      Vary: "Origin",
    };
    const reply = (status: number, body?: unknown): void => {
      const text = body === undefined ? "" : JSON.stringify(body);
      res.writeHead(status, { ...cors, "Content-Type": "application/json", "X-Supabase-Api-Version": "2024-01-01" });
      res.end(text);
    };
    const fail = (status: number, errorCode: string, msg: string): void => reply(status, { code: status, error_code: errorCode, msg });
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body: Record<string, unknown> = {};
      if (chunks.length > 0) {
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
        } catch {
          fail(400, "bad_json", "Could not parse request body as JSON");
          return;
        }
      }
      const route = table.find((r) => r.method === req.method && r.pattern.test(url.pathname));
      if (!route) return fail(404, "not_found", "stand-in: endpoint not implemented");
      const email = typeof body.email === "string" ? body.email.trim().toLowerCase() : "";
      const password = typeof body.password === "string" ? body.password : "";
      route.handler({ req, res, url, body, email, password, cors, reply, fail }).catch((err: unknown) => {
        if (!res.headersSent) fail(500, "unexpected_failure", `stand-in: ${err instanceof Error ? err.message : String(err)}`);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    issuer: issuer(),
    audience: "authenticated",
    jwksUrl: `${base}/auth/v1/.well-known/jwks.json`,
    hs256Secret,
    admins,
    sign,
    requests,
    recoveries,
    recoveryLinks,
    revokeRefreshTokens: () => refreshTokens.clear(),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
