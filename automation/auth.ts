/**
 * Supabase access tokens, verified locally with jose: signature, expiry, issuer and audience.
 * Two key sources, each enabled by config (both at once during a key rotation):
 * - the project's JWKS (asymmetric ES256/RS256 signing keys), fetched and cached by
 *   `createRemoteJWKSet` from `<supabaseUrl>/auth/v1/.well-known/jwks.json` (URL configurable);
 * - the legacy shared secret (HS256), from SUPABASE_JWT_SECRET.
 * A token's `alg` picks the source; an alg whose source is not configured is refused, so
 * an HS256 token can never be checked against a public key or the other way round.
 * There is no switch that skips any of this.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import { ApiError } from "./api-error";

export interface AdminClaim {
  /** Path inside the token, e.g. ["app_metadata", "role"]. Only `app_metadata` (server-set) is allowed. */
  path: string[];
  /** The value meaning "admin" (or an element of it, when the claim is an array). */
  equals: string;
}

export interface AuthOptions {
  /** Expected `iss`, e.g. `https://<ref>.supabase.co/auth/v1`. */
  issuer: string;
  /** Expected `aud` (Supabase: `authenticated`). */
  audience: string;
  /** JWKS URL; undefined disables asymmetric keys. */
  jwksUrl?: string;
  /** Legacy HS256 secret; undefined disables HS256. */
  hs256Secret?: string;
  adminClaim: AdminClaim;
  /**
   * Supabase anonymous sign-ins get `role: authenticated` with `is_anonymous: true`: anyone can
   * mint one. Refused (403 anonymous_not_allowed) unless this is true. Default false.
   */
  allowAnonymous?: boolean;
  /** Clock skew allowed on exp/nbf/iat, seconds (default 30). */
  clockToleranceSeconds?: number;
}

export interface Caller {
  /** Supabase user id. */
  sub: string;
  email?: string;
  isAdmin: boolean;
}

const ASYMMETRIC_ALGS = ["ES256", "RS256", "EdDSA"];

/** "app_metadata.role=admin" -> { path: ["app_metadata","role"], equals: "admin" }. */
export function parseAdminClaim(spec: string): AdminClaim {
  const eq = spec.indexOf("=");
  if (eq <= 0 || eq === spec.length - 1) throw new Error(`admin claim "${spec}" must look like app_metadata.role=admin`);
  const path = spec.slice(0, eq).split(".");
  if (path[0] !== "app_metadata" || path.length < 2 || path.some((p) => p === "")) {
    // user_metadata is writable by the user: a claim there would let anyone make themselves admin.
    throw new Error(`admin claim "${spec}" must be under app_metadata (set by the server, not by users)`);
  }
  return { path, equals: spec.slice(eq + 1) };
}

function claimAt(payload: JWTPayload, path: readonly string[]): unknown {
  let value: unknown = payload;
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function unauthorized(code: string, message: string): ApiError {
  return new ApiError(401, code, message, undefined, { "WWW-Authenticate": `Bearer error="invalid_token"` });
}

export class Authenticator {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly secret: Uint8Array | undefined;

  constructor(private readonly options: AuthOptions) {
    if (options.jwksUrl === undefined && options.hs256Secret === undefined) {
      throw new Error("authentication needs a JWKS URL or an HS256 secret (or both)");
    }
    this.jwks = options.jwksUrl !== undefined
      ? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 })
      : undefined;
    this.secret = options.hs256Secret !== undefined ? new TextEncoder().encode(options.hs256Secret) : undefined;
  }

  get modes(): string[] {
    return [...(this.jwks ? ["jwks"] : []), ...(this.secret ? ["hs256"] : [])];
  }

  /** The caller of a request, from its Authorization header; throws ApiError 401 (or 503). */
  async authenticate(authorization: string | undefined): Promise<Caller> {
    if (authorization === undefined || authorization === "") {
      throw unauthorized("missing_token", "sign in first: an Authorization: Bearer <access token> header is required");
    }
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization);
    if (!match?.[1]) throw unauthorized("invalid_token", "the Authorization header must be \"Bearer <access token>\"");
    const token = match[1];
    let alg: string | undefined;
    try {
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw unauthorized("invalid_token", "the access token is malformed");
    }
    const common = {
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: this.options.clockToleranceSeconds ?? 30,
      requiredClaims: ["sub", "exp"],
    };
    let payload: JWTPayload;
    try {
      if (alg === "HS256" && this.secret) {
        ({ payload } = await jwtVerify(token, this.secret, { ...common, algorithms: ["HS256"] }));
      } else if (alg !== undefined && ASYMMETRIC_ALGS.includes(alg) && this.jwks) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...common, algorithms: ASYMMETRIC_ALGS }));
      } else {
        throw unauthorized("invalid_token", "the access token is signed with an algorithm this server does not accept");
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const code = (err as { code?: unknown }).code;
      if (code === "ERR_JWT_EXPIRED") throw unauthorized("token_expired", "the access token has expired; sign in again");
      if (code === "ERR_JWKS_TIMEOUT" || (err instanceof TypeError && !("code" in err && typeof code === "string" && code.startsWith("ERR_")))) {
        throw new ApiError(503, "auth_unavailable", "the sign-in keys cannot be fetched right now; try again shortly");
      }
      throw unauthorized("invalid_token", "the access token is not valid for this service");
    }
    if (typeof payload.sub !== "string" || payload.sub === "") throw unauthorized("invalid_token", "the access token names no user");
    // Supabase puts is_anonymous on every access token; true marks an anonymous sign-in.
    if (payload.is_anonymous === true && this.options.allowAnonymous !== true) {
      throw new ApiError(403, "anonymous_not_allowed", "anonymous sign-ins cannot use this service; sign up with an e-mail address");
    }
    const admin = claimAt(payload, this.options.adminClaim.path);
    const isAdmin = Array.isArray(admin) ? admin.includes(this.options.adminClaim.equals) : admin === this.options.adminClaim.equals;
    const email = typeof payload.email === "string" && payload.email !== "" ? payload.email : undefined;
    return { sub: payload.sub, ...(email !== undefined ? { email } : {}), isAdmin };
  }
}
