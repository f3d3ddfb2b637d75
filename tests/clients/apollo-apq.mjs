// Apollo Client's automatic persisted queries against the real server.
//
//   node apollo-apq.mjs http://127.0.0.1:8000
//
// Apollo Client (PersistedQueryLink + HttpLink over Node's fetch, SHA-256 from node:crypto):
//   1. POST: a query the server has never seen goes out as its hash only, is answered
//      PERSISTED_QUERY_NOT_FOUND, and is retried with its text; a new client then sends the
//      hash only and gets the data (the server kept the document, not the client).
//   2. The same with useGETForHashedQueries (and variables, JSON in the URL): the hash goes out
//      as GET, the retry as POST, and the second client's GET with the hash alone is answered.
//   3. At a court's endpoint (/courts/mad/graphql).
//   4. Signed in: signIn (a mutation, always POST) then `me` with an Authorization header.
// Each operation name carries a fresh nonce, so every run starts with documents the server
// has never seen. Prints a JSON report (every check with the requests it made); exit 1 if
// any check failed.
import { createHash, randomBytes } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { check, crash, finish, recordingFetch, urlArgument } from "./common.mjs";

const base = urlArgument("node apollo-apq.mjs BASE_URL  (e.g. http://127.0.0.1:8000)").replace(/\/+$/, "");
const nonce = randomBytes(6).toString("hex");
const USER = { username: "jmorgan2019", password: "Granite-Falcon-Morning-88" };
const report = { base, nonce, client: "@apollo/client 4.3.8 PersistedQueryLink + HttpLink", checks: [] };
const checks = report.checks;

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/** A new Apollo Client (so nothing is remembered on the client side) and its request log. */
function newClient(path, { useGETForHashedQueries = false } = {}) {
  const log = [];
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(
    new HttpLink({ uri: base + path, fetch: recordingFetch(log) }),
  );
  return { client: new ApolloClient({ link, cache: new InMemoryCache() }), log };
}

/** What a recorded request carried: the method, whether it had the text, and the hash. */
function describe(exchange) {
  const { request, response } = exchange;
  let query, extensions;
  if (request.method === "GET") {
    const params = new URL(request.url).searchParams;
    query = params.get("query");
    extensions = params.has("extensions") ? JSON.parse(params.get("extensions")) : undefined;
  } else {
    query = request.body?.query;
    extensions = request.body?.extensions;
  }
  const errors = Array.isArray(response?.body?.errors) ? response.body.errors : [];
  return {
    method: request.method,
    withQuery: typeof query === "string" && query.length > 0,
    hash: extensions?.persistedQuery?.sha256Hash ?? null,
    status: response?.status,
    codes: errors.map((error) => error?.extensions?.code ?? null),
    hasData: response?.body?.data != null,
  };
}

async function run(client, options) {
  try {
    const result = await client.query({ fetchPolicy: "no-cache", ...options });
    return { data: result.data, error: result.error ? String(result.error) : null };
  } catch (error) {
    return { data: null, error: String(error?.message ?? error) };
  }
}

async function mutate(client, options) {
  try {
    const result = await client.mutate(options);
    return { data: result.data, error: result.error ? String(result.error) : null };
  } catch (error) {
    return { data: null, error: String(error?.message ?? error) };
  }
}

/**
 * One never-seen query twice: a first client (hash, NOT_FOUND, retry with text), then a
 * second client whose single request carries the hash only.
 */
async function apqRoundTrip(label, path, text, expectData, { get = false, headers, variables } = {}) {
  const query = gql(text);
  const first = newClient(path, { useGETForHashedQueries: get });
  const firstResult = await run(first.client, { query, variables, context: { headers } });
  const firstRequests = first.log.map(describe);
  const hashMethod = get ? "GET" : "POST";
  check(
    checks,
    `${label}: first run sends the hash alone, gets PERSISTED_QUERY_NOT_FOUND, retries with the text`,
    firstRequests.length === 2 &&
      firstRequests[0].method === hashMethod &&
      !firstRequests[0].withQuery &&
      firstRequests[0].hash &&
      firstRequests[0].codes.includes("PERSISTED_QUERY_NOT_FOUND") &&
      !firstRequests[0].hasData &&
      firstRequests[1].method === "POST" &&
      firstRequests[1].withQuery &&
      firstRequests[1].hash === firstRequests[0].hash &&
      firstRequests[1].status === 200,
    { requests: firstRequests, exchanges: first.log },
  );
  check(checks, `${label}: first run's data`, firstResult.error === null && expectData(firstResult.data), {
    result: firstResult,
  });

  const second = newClient(path, { useGETForHashedQueries: get });
  const secondResult = await run(second.client, { query, variables, context: { headers } });
  const secondRequests = second.log.map(describe);
  check(
    checks,
    `${label}: a new client's ${hashMethod} with the hash alone is answered (the server kept the document)`,
    secondRequests.length === 1 &&
      secondRequests[0].method === hashMethod &&
      !secondRequests[0].withQuery &&
      secondRequests[0].hash === firstRequests[0]?.hash &&
      secondRequests[0].status === 200 &&
      secondRequests[0].codes.length === 0,
    { requests: secondRequests, exchanges: second.log },
  );
  check(
    checks,
    `${label}: second run's data equals the first's`,
    secondResult.error === null && JSON.stringify(secondResult.data) === JSON.stringify(firstResult.data),
    { result: secondResult },
  );
}

const hasMad = (data) => Array.isArray(data?.courts) && data.courts.some((court) => court.code === "mad");

try {
  await apqRoundTrip(
    "POST /graphql",
    "/graphql",
    `query ApqCourts_${nonce} { courts { code name } }`,
    hasMad,
  );
  await apqRoundTrip(
    "GET /graphql (useGETForHashedQueries)",
    "/graphql",
    `query ApqCourtsGet_${nonce}($withKind: Boolean!) { courts { code name kind @include(if: $withKind) } }`,
    (data) => hasMad(data) && data.courts.every((court) => typeof court.kind === "string"),
    { get: true, variables: { withKind: true } },
  );
  await apqRoundTrip(
    "GET /courts/mad/graphql (useGETForHashedQueries)",
    "/courts/mad/graphql",
    `query ApqCourt_${nonce} { court { code name } }`,
    (data) => data?.court?.code === "mad",
    { get: true },
  );

  // Signed in: the token from signIn (a mutation: PersistedQueryLink never sends it as GET),
  // then `me` with an Authorization header, as a hash the server has not seen.
  const signer = newClient("/graphql", { useGETForHashedQueries: true });
  const signedIn = await mutate(signer.client, {
    mutation: gql(`mutation ApqSignIn_${nonce}($input: SignInInput!) {
      signIn(input: $input) { token errors { code message } } }`),
    variables: { input: USER },
  });
  const token = signedIn.data?.signIn?.token;
  const signRequests = signer.log.map(describe);
  check(
    checks,
    "signIn mutation through PersistedQueryLink: POST hash, NOT_FOUND, POST with text, a token",
    typeof token === "string" &&
      token.length > 0 &&
      signedIn.data.signIn.errors.length === 0 &&
      signRequests.length === 2 &&
      signRequests.every((request) => request.method === "POST") &&
      !signRequests[0].withQuery &&
      signRequests[0].codes.includes("PERSISTED_QUERY_NOT_FOUND") &&
      signRequests[1].withQuery,
    {
      result: {
        ...signedIn,
        data: signedIn.data && { signIn: { ...signedIn.data.signIn, token: "<token>" } },
      },
      requests: signRequests,
    },
  );
  const meText = `query ApqMe_${nonce} { me { username isLegacy } }`;
  await apqRoundTrip(
    "signed in, Authorization: Bearer",
    "/graphql",
    meText,
    (data) => data?.me?.username === USER.username,
    { get: true, headers: { Authorization: `Bearer ${token}` } },
  );
  const anonymous = newClient("/graphql", { useGETForHashedQueries: true });
  const anonymousResult = await run(anonymous.client, { query: gql(meText) });
  check(
    checks,
    "the same hash without the header: me is null, hash-only GET answered",
    anonymousResult.error === null &&
      anonymousResult.data?.me === null &&
      anonymous.log.length === 1 &&
      !describe(anonymous.log[0]).withQuery,
    { result: anonymousResult, requests: anonymous.log.map(describe) },
  );
  // The token must not leak into the report.
  for (const entry of checks) {
    for (const exchange of entry.exchanges ?? []) {
      if (exchange.request.headers.authorization) exchange.request.headers.authorization = "Bearer <token>";
    }
  }
  finish(report);
} catch (error) {
  crash(report, error);
}
