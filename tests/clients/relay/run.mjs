// Relay's runtime against the real server, sending persisted ids only.
//
//   node relay/run.mjs BASE_URL ARTIFACTS_DIR [--trusted-only]
//
// ARTIFACTS_DIR is what relay/compile.mjs produced; its persisted documents must have been
// registered with `nextgen-gql operations add` first. An Environment whose Network fetch
// function sends {"doc_id": request.id, "variables"} (never the text) runs: CourtsQuery
// (and its fragment, read back from the store), CourtQuery at /courts/mad/graphql,
// CourtNodeQuery with a variable, SignInMutation (commitMutation) and MeQuery with the
// token as Authorization: Bearer. The same id is also sent as "documentId" and as "id",
// and an id nobody registered must be refused.
//
// Plain requests with a text the server has never registered: answered normally, or with
// --trusted-only (the server runs with NEXTGEN_GQL_TRUSTED_DOCUMENTS=only) refused with 400
// and PERSISTED_QUERY_REQUIRED, as is an automatic persisted query's registration.
// Prints a JSON report; exit 1 if any check failed.
import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import RelayRuntime from "relay-runtime";
import { check, crash, finish, recordingFetch } from "../common.mjs";

const { Environment, Network, RecordSource, Store, commitMutation, createOperationDescriptor, getSelector } =
  RelayRuntime;

const [base0, artifactsDir, ...flags] = process.argv.slice(2);
if (!base0 || !/^https?:\/\//.test(base0) || !artifactsDir) {
  process.stderr.write("usage: node relay/run.mjs BASE_URL ARTIFACTS_DIR [--trusted-only]\n");
  process.exit(2);
}
const base = base0.replace(/\/+$/, "");
const trustedOnly = flags.includes("--trusted-only");
const USER = { username: "jmorgan2019", password: "Granite-Falcon-Morning-88" };
const ACCEPT = "application/graphql-response+json, application/json;q=0.9";
const report = { base, trustedOnly, client: "relay-runtime 21.0.1 Network.create", checks: [] };
const checks = report.checks;

/** The compiled artifacts, by name (operations by their name, fragments by theirs). */
async function loadArtifacts(dir) {
  const nodes = {};
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith(".graphql.js")) {
      const { default: node } = await import(pathToFileURL(resolve(dir, file)));
      nodes[node.kind === "Request" ? node.params.name : node.name] = node;
    }
  }
  return nodes;
}

/**
 * An Environment whose network sends the persisted id under `key` ("doc_id" by default),
 * to the court's endpoint for the operations that need one, with the token if set.
 */
function newEnvironment(log, { key = "doc_id", token = () => null } = {}) {
  const fetch = recordingFetch(log);
  async function fetchFn(request, variables) {
    if (!request.id || request.text) throw new Error(`${request.name} is not persisted (text sent)`);
    const path = request.name === "CourtQuery" ? "/courts/mad/graphql" : "/graphql";
    const headers = { "Content-Type": "application/json", Accept: ACCEPT };
    if (token()) headers.Authorization = `Bearer ${token()}`;
    const response = await fetch(base + path, {
      method: "POST",
      headers,
      body: JSON.stringify({ [key]: request.id, variables }),
    });
    return await response.json();
  }
  return new Environment({ network: Network.create(fetchFn), store: new Store(new RecordSource()) });
}

/** Fetch a query, keep it in the store, and read it back from the store. */
async function query(environment, node, variables = {}) {
  const operation = createOperationDescriptor(node, variables);
  const retained = environment.retain(operation);
  try {
    await new Promise((resolve, reject) => {
      environment.execute({ operation }).subscribe({ complete: resolve, error: reject });
    });
    return { operation, retained, data: environment.lookup(operation.fragment).data, error: null };
  } catch (error) {
    retained.dispose();
    return { operation, data: null, error: String(error?.message ?? error) };
  }
}

function readFragment(environment, fragment, ref) {
  return environment.lookup(getSelector(fragment, ref)).data;
}

function sent(log) {
  return log.map(({ request, response }) => ({
    url: request.url,
    keys: request.body && typeof request.body === "object" ? Object.keys(request.body).sort() : null,
    status: response?.status,
    codes: (response?.body?.errors ?? []).map((error) => error?.extensions?.code ?? null),
  }));
}

const onlyIds = (log) =>
  log.every(({ request }) => request.body && !("query" in request.body) && !("extensions" in request.body));

async function post(path, body) {
  const log = [];
  await recordingFetch(log)(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: ACCEPT },
    body: JSON.stringify(body),
  });
  return log[0];
}

try {
  const nodes = await loadArtifacts(artifactsDir);
  report.operations = Object.fromEntries(
    Object.values(nodes)
      .filter((node) => node.kind === "Request")
      .map((node) => [node.params.name, node.params.id]),
  );

  // 1. Every court, each read through its fragment.
  let log = [];
  let environment = newEnvironment(log);
  const courts = await query(environment, nodes.CourtsQuery);
  const mad = courts.data?.courts?.find((court) => court.code === "mad");
  const madFragment = mad ? readFragment(environment, nodes.CourtsCourt_court, mad) : null;
  check(
    checks,
    "CourtsQuery by doc_id: the courts, and mad's fragment read from the store",
    courts.error === null &&
      courts.data.courts.length >= 3 &&
      onlyIds(log) &&
      typeof madFragment?.name === "string" &&
      madFragment.kind === "DISTRICT",
    {
      error: courts.error,
      data: courts.data && { codes: courts.data.courts.map((c) => c.code) },
      madFragment,
      requests: sent(log),
      exchanges: courts.error ? log : undefined,
    },
  );

  // 2. The court's own endpoint.
  const court = await query(environment, nodes.CourtQuery);
  check(
    checks,
    "CourtQuery by doc_id at /courts/mad/graphql",
    court.error === null && court.data?.court?.code === "mad",
    {
      error: court.error,
      data: court.data,
      requests: sent(log.slice(1)),
      exchanges: court.error ? log.slice(1) : undefined,
    },
  );

  // 3. A variable.
  const before = log.length;
  const byId = mad
    ? await query(environment, nodes.CourtNodeQuery, { id: mad.id })
    : { error: "no mad", data: null };
  check(
    checks,
    "CourtNodeQuery($id) by doc_id with variables",
    byId.error === null && byId.data?.node?.code === "mad" && byId.data.node.name === madFragment?.name,
    {
      error: byId.error,
      data: byId.data,
      requests: sent(log.slice(before)),
      exchanges: byId.error ? log.slice(before) : undefined,
    },
  );

  // 4. A mutation, then a signed-in query with the token.
  let token = null;
  log = [];
  environment = newEnvironment(log, { token: () => token });
  const signIn = await new Promise((resolve) => {
    commitMutation(environment, {
      mutation: nodes.SignInMutation,
      variables: { input: USER },
      onCompleted: (data, errors) => resolve({ data, error: errors ? JSON.stringify(errors) : null }),
      onError: (error) => resolve({ data: null, error: String(error?.message ?? error) }),
    });
  });
  token = signIn.data?.signIn?.token ?? null;
  check(
    checks,
    "SignInMutation by doc_id (commitMutation): a token",
    signIn.error === null &&
      typeof token === "string" &&
      signIn.data.signIn.errors.length === 0 &&
      onlyIds(log),
    {
      error: signIn.error,
      errors: signIn.data?.signIn?.errors,
      requests: sent(log),
      exchanges: signIn.error ? log : undefined,
    },
  );
  const me = await query(environment, nodes.MeQuery);
  const account = me.data?.me ? readFragment(environment, nodes.MeAccount_account, me.data.me) : null;
  check(
    checks,
    "MeQuery by doc_id with Authorization: Bearer, and its fragment",
    me.error === null &&
      me.data?.me?.username === USER.username &&
      account?.lastName === "Morgan" &&
      account.isLegacy === false,
    {
      error: me.error,
      data: me.data && { username: me.data.me?.username },
      account,
      requests: sent(log.slice(1)),
    },
  );

  // 5. The same id under the other names the server takes.
  for (const key of ["documentId", "id"]) {
    const keyLog = [];
    const result = await query(newEnvironment(keyLog, { key }), nodes.CourtsQuery);
    check(
      checks,
      `CourtsQuery with the id sent as "${key}"`,
      result.error === null &&
        result.data?.courts?.some((c) => c.code === "mad") &&
        keyLog[0]?.request.body?.[key],
      { error: result.error, requests: sent(keyLog), exchanges: result.error ? keyLog : undefined },
    );
  }

  // 6. An id nobody registered.
  const unknown = await post("/graphql", { doc_id: "0123456789abcdef0123456789abcdef", variables: {} });
  check(
    checks,
    "an unregistered doc_id: refused, no data, an error code",
    unknown.response.status === 400 &&
      unknown.response.body?.data === undefined &&
      typeof unknown.response.body?.errors?.[0]?.extensions?.code === "string",
    { exchange: unknown },
  );

  // 7. Text nobody registered, plain and as an automatic persisted query.
  const text = `query Unregistered${Date.now()} { courts { code } }`;
  const plain = await post("/graphql", { query: text });
  const apq = await post("/graphql", {
    query: text,
    extensions: {
      persistedQuery: { version: 1, sha256Hash: createHash("sha256").update(text).digest("hex") },
    },
  });
  const refused = (exchange) =>
    exchange.response.status === 400 &&
    exchange.response.body?.data === undefined &&
    exchange.response.body?.errors?.[0]?.extensions?.code === "PERSISTED_QUERY_REQUIRED";
  const answered = (exchange) =>
    exchange.response.status === 200 && exchange.response.body?.data?.courts?.some((c) => c.code === "mad");
  if (trustedOnly) {
    check(
      checks,
      "trusted documents only: an unregistered text is refused, 400 PERSISTED_QUERY_REQUIRED",
      refused(plain),
      {
        exchange: plain,
      },
    );
    check(
      checks,
      "trusted documents only: an automatic persisted query cannot register a text (400 PERSISTED_QUERY_REQUIRED)",
      refused(apq),
      { exchange: apq },
    );
  } else {
    check(checks, "an unregistered text is answered", answered(plain), { exchange: plain });
    check(checks, "an automatic persisted query with its text is answered", answered(apq), { exchange: apq });
  }

  for (const entry of checks) {
    for (const exchange of entry.exchanges ?? []) {
      if (exchange.request.headers.authorization) exchange.request.headers.authorization = "Bearer <token>";
    }
  }
  finish(report);
} catch (error) {
  crash(report, error);
}
