// A relying party built on openid-client 6 (a certified OpenID Connect client), against the
// service's provider, as a court's CM/ECF on another host would use it.
//
//   node oidc-rp.mjs  (everything else comes from the environment; tests/test_clients.py sets it)
//
//   OIDC_ISSUER          the provider (NEXTGEN_GQL_PUBLIC_URL, http://127.0.0.1:PORT)
//   OIDC_RP_PORT         where this script listens: /jwks.json (its keys), /backchannel (logout tokens)
//   OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   a court's own system (client_secret_basic), with a
//                        post-logout redirect URI RP/bye and a back-channel logout URI RP/backchannel
//   OIDC_PK_CLIENT_ID    the same court's system registered with private_key_jwt and RP/jwks.json
//   OIDC_USERNAME, OIDC_PASSWORD, OIDC_TOTP_SEED   a person with an authenticator app
//   OIDC_SESSION         that person's session from before the app was added (the NextGenCSO cookie)
//   OIDC_ROTATE          JSON [exe, ...args, cwd]: the command that rotates the signing keys
//
// The browser is played by fetch with a cookie jar: the provider's own sign-in and second-factor
// pages are read and their forms posted, CSRF token and all. Checks: discovery with an exact
// issuer; the code flow with PKCE, state and nonce and ID-token signatures checked
// (enableNonRepudiationChecks); userinfo per scope; a replayed code refused; refresh rotation and
// a replayed refresh token ending the grant; acr_values=urn:nextgen:loa:2 forcing the second factor,
// amr showing it; revocation then introspection; private_key_jwt; a bad redirect_uri never
// redirected to; key rotation seen by a client reading the JWKS again; RP-initiated logout; the
// back-channel logout token received and verified (jose).
// Prints a JSON report; exit 1 if any check failed.
import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import * as client from "openid-client";
import { createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from "jose";
import { check, crash, finish } from "./common.mjs";

const env = process.env;
const ISSUER = env.OIDC_ISSUER;
const RP = `http://127.0.0.1:${env.OIDC_RP_PORT}`;
const CALLBACK = `${RP}/cb`;
const LOA_1 = "urn:nextgen:loa:1";
const LOA_2 = "urn:nextgen:loa:2";
const BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout";
const report = { issuer: ISSUER, client: "openid-client 6.9.1 and jose 6.2.19 (npm)", checks: [], pages: [] };
const checks = report.checks;

// -- this relying party's own server: its keys, and the back-channel logout endpoint ----------
const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
const publicJwk = { ...(await exportJWK(publicKey)), kid: "rp-2026-12", alg: "RS256", use: "sig" };
const logoutTokens = [];
const waiters = [];
const rp = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    if (request.url === "/jwks.json") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ keys: [publicJwk] }));
      return;
    }
    if (request.method === "POST" && request.url === "/backchannel") {
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      logoutTokens.push(form.get("logout_token"));
      response.writeHead(200, { "cache-control": "no-store" });
      response.end();
      for (const wake of waiters.splice(0)) wake();
      return;
    }
    response.writeHead(404);
    response.end();
  });
});
await new Promise((resolve) => rp.listen(Number(env.OIDC_RP_PORT), "127.0.0.1", resolve));

// -- the browser: fetch, a cookie jar, the provider's forms -----------------------------------
const jar = new Map([["NextGenCSO", env.OIDC_SESSION]]);

async function browse(url, init = {}) {
  const headers = new Headers(init.headers ?? {});
  headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
  const response = await fetch(url, { ...init, headers, redirect: "manual" });
  for (const line of response.headers.getSetCookie()) {
    const [pair] = line.split(";");
    const at = pair.indexOf("=");
    const value = pair.slice(at + 1);
    if (value === "" || /max-age=0/i.test(line)) jar.delete(pair.slice(0, at));
    else jar.set(pair.slice(0, at), value);
  }
  const text = await response.text();
  report.pages.push({ url: String(url).slice(0, 200), status: response.status, location: response.headers.get("location") });
  return { status: response.status, location: response.headers.get("location"), text };
}

function unescapeHtml(text) {
  return text
    .replaceAll("&quot;", '"')
    .replaceAll("&#x27;", "'")
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

function hiddenFields(page) {
  const found = {};
  for (const m of page.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g)) found[m[1]] = unescapeHtml(m[2]);
  return found;
}

async function submit(page, fields) {
  const body = new URLSearchParams({ ...hiddenFields(page.text), ...fields });
  return browse(`${ISSUER}/oauth/authorize`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body,
  });
}

function totp(seed, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of seed.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** One authorization: the URL openid-client builds, the pages a person meets, the callback. */
async function authorize(config, { scope = "openid", extra = {}, person = null } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    ...extra,
  });
  let page = await browse(url);
  const met = [];
  for (let step = 0; step < 4 && page.status === 200; step++) {
    if (page.text.includes('value="sign_in"')) {
      met.push("password");
      page = await submit(page, { action: "sign_in", username: person.username, password: person.password, redaction: "1" });
    } else if (page.text.includes('value="second_factor"')) {
      met.push("second factor");
      // The next step's code: the current one may have been spent adding the app (one step of
      // drift is accepted, and a step's code works once).
      page = await submit(page, { action: "second_factor", code: totp(person.seed, Date.now() + 30000) });
    } else break;
  }
  return { page, met, verifier, state, nonce, callback: page.location ? new URL(page.location) : null };
}

async function redeem(config, flow) {
  return client.authorizationCodeGrant(config, flow.callback, {
    pkceCodeVerifier: flow.verifier,
    expectedState: flow.state,
    expectedNonce: flow.nonce,
    idTokenExpected: true,
  });
}

async function refused(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return error?.error ?? error?.code ?? String(error?.message ?? error);
  }
}

const person = { username: env.OIDC_USERNAME, password: env.OIDC_PASSWORD, seed: env.OIDC_TOTP_SEED };
const insecure = { execute: [client.allowInsecureRequests] };

try {
  // 1. Discovery, with the issuer exactly as published.
  const config = await client.discovery(
    new URL(ISSUER),
    env.OIDC_CLIENT_ID,
    undefined,
    client.ClientSecretBasic(env.OIDC_CLIENT_SECRET),
    insecure,
  );
  client.enableNonRepudiationChecks(config);
  const meta = config.serverMetadata();
  check(checks, "discovery: the issuer is exactly NEXTGEN_GQL_PUBLIC_URL", meta.issuer === ISSUER, { issuer: meta.issuer });
  check(checks, "discovery: PKCE S256 and private_key_jwt are offered", meta.code_challenge_methods_supported?.includes("S256") && meta.token_endpoint_auth_methods_supported?.includes("private_key_jwt"));
  const elsewhere = await refused(
    client.discovery(new URL(ISSUER.replace("127.0.0.1", "localhost")), env.OIDC_CLIENT_ID, undefined, client.ClientSecretBasic(env.OIDC_CLIENT_SECRET), insecure),
  );
  check(checks, "discovery: an issuer that is not the published one is refused by the client", elsewhere !== null, { error: elsewhere });

  // 2. The code flow, the person signed in already (their session from before the app was added).
  const first = await authorize(config, { scope: "openid profile email pacer cmecf" });
  check(checks, "code flow: back at the redirect URI with a code, no page shown", first.callback?.href.startsWith(CALLBACK) && first.met.length === 0, { met: first.met, location: first.page.location });
  const tokens = await redeem(config, first);
  const claims = tokens.claims();
  const firstHeader = decodeProtectedHeader(tokens.id_token);
  check(checks, "code flow: the ID token's signature, iss, aud, nonce and at_hash hold", claims.iss === ISSUER && claims.aud === env.OIDC_CLIENT_ID && Boolean(claims.sub), { claims });
  check(checks, "code flow: a session without a second factor is acr loa:1, amr pwd", claims.acr === LOA_1 && JSON.stringify(claims.amr) === '["pwd"]', { acr: claims.acr, amr: claims.amr });
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  check(checks, "userinfo: profile, email, pacer and cmecf claims for those scopes", info.preferred_username === person.username && Boolean(info.email) && Boolean(info.pacer_account_number) && "cmecf_privilege" in info, { info });

  // 3. Refresh tokens rotate; a replayed one ends the grant.
  const second = await client.refreshTokenGrant(config, tokens.refresh_token);
  check(checks, "refresh: a new access and refresh token", second.refresh_token && second.refresh_token !== tokens.refresh_token && second.access_token !== tokens.access_token);
  const again = await refused(client.refreshTokenGrant(config, tokens.refresh_token));
  const after = await refused(client.refreshTokenGrant(config, second.refresh_token));
  check(checks, "refresh: the old one presented again is refused, and ends the newer one too", again === "invalid_grant" && after === "invalid_grant", { again, after });

  // A code presented again is refused, and what it issued ends (RFC 6749 4.1.2).
  const once = await authorize(config, { scope: "openid" });
  const onceTokens = await redeem(config, once);
  const replayed = await refused(redeem(config, once));
  const ended = await client.tokenIntrospection(config, onceTokens.access_token);
  check(checks, "a code presented again is refused (invalid_grant) and its tokens end", replayed === "invalid_grant" && ended.active === false, { error: replayed, ended });

  // 4. acr_values=loa:2: the person must sign in again with the second factor.
  const strong = await authorize(config, { scope: "openid profile", extra: { acr_values: LOA_2 }, person });
  check(checks, "acr_values loa:2: the password, then the second factor are asked", JSON.stringify(strong.met) === '["password","second factor"]' && Boolean(strong.callback), { met: strong.met, status: strong.page.status, location: strong.page.location, page: strong.page.text.slice(0, 800) });
  const strongTokens = await redeem(config, strong);
  const strongClaims = strongTokens.claims();
  check(checks, "acr_values loa:2: acr loa:2 and amr pwd, otp, mfa", strongClaims.acr === LOA_2 && ["pwd", "otp", "mfa"].every((m) => strongClaims.amr?.includes(m)), { acr: strongClaims.acr, amr: strongClaims.amr });

  // 5. Userinfo per scope: openid alone is the subject alone.
  const bare = await redeem(config, await authorize(config, { scope: "openid" }));
  const bareInfo = await client.fetchUserInfo(config, bare.access_token, strongClaims.sub);
  check(checks, "userinfo: openid alone gives sub and nothing else", JSON.stringify(Object.keys(bareInfo)) === '["sub"]', { info: bareInfo });

  // 6. Revocation, then introspection says inactive.
  const live = await client.tokenIntrospection(config, bare.access_token);
  await client.tokenRevocation(config, bare.access_token);
  const dead = await client.tokenIntrospection(config, bare.access_token);
  check(checks, "introspection: active, then inactive once revoked", live.active === true && dead.active === false, { live, dead });

  // 7. private_key_jwt: the same court's system signing with its own key.
  const signer = await client.discovery(new URL(ISSUER), env.OIDC_PK_CLIENT_ID, undefined, client.PrivateKeyJwt({ key: privateKey, kid: publicJwk.kid }), insecure);
  client.enableNonRepudiationChecks(signer);
  const signed = await redeem(signer, await authorize(signer, { scope: "openid pacer" }));
  check(checks, "private_key_jwt: the code is redeemed with a signed client assertion", signed.claims().aud === env.OIDC_PK_CLIENT_ID && Boolean(signed.access_token), { aud: signed.claims().aud });
  const reused = await refused(client.refreshTokenGrant(signer, signed.refresh_token));
  check(checks, "private_key_jwt: a fresh assertion each time (refresh works)", reused === null, { error: reused });

  // 8. A redirect URI that is not registered: an error page, never a redirect.
  const bad = await browse(
    client.buildAuthorizationUrl(config, { redirect_uri: "https://evil.example/cb", scope: "openid", code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: "S256" }),
  );
  check(checks, "a redirect_uri not registered gets a page, no Location", bad.status === 400 && bad.location === null, { status: bad.status });

  // 9. Key rotation: the new key signs; a client reading the JWKS again verifies both tokens.
  const [exe, ...rest] = JSON.parse(env.OIDC_ROTATE);
  const cwd = rest.pop();
  execFileSync(exe, rest, { cwd, env: { ...process.env, NEXTGEN_GQL_SIGNING_KEY_PUBLISH_S: "0" }, stdio: "pipe" });
  const fresh = await client.discovery(new URL(ISSUER), env.OIDC_CLIENT_ID, undefined, client.ClientSecretBasic(env.OIDC_CLIENT_SECRET), insecure);
  client.enableNonRepudiationChecks(fresh);
  const rotated = await redeem(fresh, await authorize(fresh, { scope: "openid" }));
  const rotatedHeader = decodeProtectedHeader(rotated.id_token);
  const keys = createRemoteJWKSet(new URL(meta.jwks_uri));
  const old = await jwtVerify(tokens.id_token, keys, { issuer: ISSUER, audience: env.OIDC_CLIENT_ID }).then(() => true, (e) => String(e));
  check(checks, "key rotation: a new kid signs, and the old key still verifies what it signed", rotatedHeader.kid !== firstHeader.kid && old === true, { before: firstHeader.kid, after: rotatedHeader.kid, old });

  // 10. RP-initiated logout with the ID token of the browser's session, then the back-channel token.
  const ending = client.buildEndSessionUrl(config, { id_token_hint: strongTokens.id_token, post_logout_redirect_uri: `${RP}/bye`, state: "bye-1" });
  const out = await browse(ending);
  check(checks, "RP-initiated logout: back to the registered post-logout URI with state", [302, 303].includes(out.status) && out.location?.startsWith(`${RP}/bye`) && out.location.includes("state=bye-1"), { status: out.status, location: out.location });
  const deadline = Date.now() + 20000;
  while (logoutTokens.length === 0 && Date.now() < deadline) {
    await Promise.race([new Promise((wake) => waiters.push(wake)), new Promise((wake) => setTimeout(wake, 500))]);
  }
  const [logoutToken] = logoutTokens;
  let verified = null;
  try {
    const { payload, protectedHeader } = await jwtVerify(logoutToken, createRemoteJWKSet(new URL(meta.jwks_uri)), { issuer: ISSUER, audience: env.OIDC_CLIENT_ID, typ: "logout+jwt" });
    verified = { payload, protectedHeader };
  } catch (error) {
    verified = { error: String(error) };
  }
  check(checks, "back-channel logout: a logout token arrives, verifies, and names the session", Boolean(verified?.payload) && BACKCHANNEL_EVENT in (verified.payload.events ?? {}) && verified.payload.sid === strongClaims.sid && !("nonce" in verified.payload), { verified, count: logoutTokens.length });
  const gone = await refused(client.fetchUserInfo(config, strongTokens.access_token, strongClaims.sub));
  check(checks, "after the logout the session's access tokens stop", gone !== null, { error: gone });
} catch (error) {
  rp.close();
  crash(report, error);
}
rp.close();
finish(report);
