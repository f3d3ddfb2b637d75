// A court system's webhook receiver, verifying with the Standard Webhooks npm package.
//
//   node webhook-receiver.mjs http://127.0.0.1:8000
//
// The server must allow deliveries to 127.0.0.1 (NEXTGEN_GQL_WEBHOOK_ALLOW_NETWORKS=127.0.0.1/32).
//   1. A receiver (node:http) listens on 127.0.0.1; the court's clerk (madclerk01) makes a
//      webhook endpoint for it at /courts/mad/graphql and gets its whsec_ secret once.
//   2. sendTestWebhook: the PING arrives; standardwebhooks' Webhook.verify accepts it with the
//      secret (and the payload is the body the log shows, its webhook-id the delivery's id);
//      the same body altered, or another secret, is refused.
//   3. rotateWebhookSecret, then another PING: two signatures; the old and the new secret each
//      verify it alone.
//   4. A receiver answering 500 first: the delivery is sent again, the same webhook-id, and
//      verifies; the log shows both attempts.
//   5. Every event type, over two more endpoints (one for every type, one for two of them):
//      a registration submitted, withdrawn, submitted again and approved (a privilege granted),
//      a case listed on the privilege, the privilege revoked, a legacy account linked (its
//      privilege granted). Each event arrives once at each endpoint that asked for its type,
//      at no other, and verifies with that endpoint's secret.
//   6. A receiver answering 503 with Retry-After: 8: the next attempt waits the 8 s (the
//      schedule alone would send it after 5 s).
//   7. A receiver answering 410: the endpoint is disabled, and says why.
// Prints a JSON report; exit 1 if any check failed.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { check, crash, finish, urlArgument } from "./common.mjs";

const base = urlArgument("node webhook-receiver.mjs BASE_URL").replace(/\/+$/, "");
const report = { base, client: "standardwebhooks 1.1.1 (npm) Webhook.verify", checks: [] };
const checks = report.checks;
const CLERK = { username: "madclerk01", password: "Court-Docket-Review-2026!" };
const FILER = { username: "jmorgan2019", password: "Granite-Falcon-Morning-88" };
const LEGACY = { login: "jmorgan", password: "legacy-ecf-pass" };

const received = [];
const waiters = [];
let answers = [];

const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    received.push({ method: request.method, url: request.url, headers: { ...request.headers }, body, at: Date.now() });
    const answer = answers.length ? answers.shift() : 200;
    const [status, extra] = typeof answer === "number" ? [answer, {}] : [answer.status, answer.headers];
    response.writeHead(status, { "content-type": "text/plain", ...extra });
    response.end("ok");
    for (const wake of waiters.splice(0)) wake();
  });
});

function delivered(count, seconds = 20, path = "/hooks/nextgen") {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${count} deliveries to ${path} did not arrive in ${seconds} s`)), seconds * 1000);
    const look = () => {
      const here = received.filter((r) => r.url === path);
      if (here.length >= count) {
        clearTimeout(timer);
        resolve(here.slice(0, count));
      } else waiters.push(look);
    };
    look();
  });
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function gql(query, variables, token) {
  const data = await gqlOf(query, variables, token);
  for (const payload of Object.values(data)) {
    if (payload && Array.isArray(payload.errors) && payload.errors.length) throw new Error(JSON.stringify(payload.errors));
  }
  return data;
}

async function gqlOf(query, variables, token) {
  const response = await fetch(`${base}/courts/mad/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function verifies(secret, delivery) {
  try {
    new Webhook(secret).verify(delivery.body, delivery.headers);
    return true;
  } catch {
    return false;
  }
}

try {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${server.address().port}/hooks/nextgen`;
  const signIn = async (who) =>
    (await gql("mutation($i: SignInInput!) { signIn(input: $i) { token errors { code } } }", { i: who })).signIn.token;
  const token = await signIn(CLERK);
  const made = await gqlOf(
    `mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
      secret endpoint { id } errors { code message } } }`,
    { i: { url, description: "node receiver", eventTypes: ["REGISTRATION_DECIDED"] } },
    token,
  );
  const { secret, endpoint } = made.createWebhookEndpoint;
  check(checks, "the endpoint is made, its secret shown", endpoint && /^whsec_/.test(secret ?? ""), {
    errors: made.createWebhookEndpoint.errors,
  });
  const ping = async () =>
    (await gql("mutation($id: ID!) { sendTestWebhook(id: $id) { delivery { id } errors { code } } }", { id: endpoint.id }, token))
      .sendTestWebhook.delivery.id;

  const first = await ping();
  const [one] = await delivered(1);
  const event = new Webhook(secret).verify(one.body, one.headers);
  check(checks, "standardwebhooks verifies the PING", event.type === "ping" && event.data.court === "mad", { event });
  check(checks, "its webhook-id is the delivery's id", one.headers["webhook-id"] === first, { headers: one.headers });
  check(checks, "an altered body is refused", !verifies(secret, { ...one, body: one.body.replace("mad", "mab") }));
  check(checks, "another secret is refused", !verifies("whsec_" + Buffer.alloc(32, 7).toString("base64"), one));

  const rotated = await gql(
    "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret errors { code } } }",
    { id: endpoint.id },
    token,
  );
  const fresh = rotated.rotateWebhookSecret.secret;
  await ping();
  const [, two] = await delivered(2);
  const signatures = two.headers["webhook-signature"].split(" ");
  check(checks, "after a rotation two signatures are sent", signatures.length === 2, { signatures });
  check(checks, "the old secret alone verifies it", verifies(secret, two));
  check(checks, "the new secret alone verifies it", verifies(fresh, two));

  answers = [500];
  const third = await ping();
  const [, , failed, retried] = await delivered(4, 30);
  check(
    checks,
    "a failed attempt is sent again with the same webhook-id",
    failed.headers["webhook-id"] === third && retried.headers["webhook-id"] === third && verifies(fresh, retried),
    { first: failed.headers, again: retried.headers },
  );
  const log = await gql(
    `query($id: ID!) { node(id: $id) { ... on WebhookDelivery { outcome attempts { statusCode } } } }`,
    { id: third },
    token,
  );
  check(
    checks,
    "the log shows both attempts",
    log.node.outcome === "SUCCEEDED" && log.node.attempts.map((a) => a.statusCode).join(",") === "500,200",
    { log },
  );

  // 5. Every event type, once per endpoint that asked for it.
  const port = server.address().port;
  const CREATE = `mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
    secret endpoint { id } errors { code message } } }`;
  const everyType = [
    "REGISTRATION_SUBMITTED", "REGISTRATION_WITHDRAWN", "REGISTRATION_DECIDED", "ACCOUNT_LINKED",
    "PRIVILEGE_GRANTED", "PRIVILEGE_CASES_CHANGED", "PRIVILEGE_REVOKED",
  ];
  const all = (await gql(CREATE, { i: { url: `http://127.0.0.1:${port}/hooks/all`, description: "every type", eventTypes: everyType } }, token))
    .createWebhookEndpoint;
  const some = (
    await gql(CREATE, { i: { url: `http://127.0.0.1:${port}/hooks/some`, description: "two types", eventTypes: ["ACCOUNT_LINKED", "PRIVILEGE_REVOKED"] } }, token)
  ).createWebhookEndpoint;
  const filer = await signIn(FILER);
  const SUBMIT = `mutation($i: SubmitRegistrationInput!) { submitRegistration(input: $i) { registration { id } errors { code message } } }`;
  const asked = { i: { role: "PRO_SE", caseNumber: "1:26-cv-10001" } };
  const withdrawn = (await gql(SUBMIT, asked, filer)).submitRegistration.registration.id;
  await gql("mutation($id: ID!) { withdrawRegistration(id: $id) { errors { code message } } }", { id: withdrawn }, filer);
  const second = (await gql(SUBMIT, asked, filer)).submitRegistration.registration.id;
  const decided = await gql(
    `mutation($i: DecideRegistrationInput!) { decideRegistration(input: $i) { privilege { id } errors { code message } } }`,
    { i: { id: second, approve: true } },
    token,
  );
  const privilege = decided.decideRegistration.privilege.id;
  await gql(
    `mutation($i: AddPrivilegeCaseInput!) { addPrivilegeCase(input: $i) { errors { code message } } }`,
    { i: { privilegeId: privilege, caseNumber: "1:26-cv-10002" } },
    token,
  );
  await gql(
    `mutation($i: RevokeFilingPrivilegeInput!) { revokeFilingPrivilege(input: $i) { errors { code message } } }`,
    { i: { id: privilege, reason: "The case has closed." } },
    token,
  );
  const linked = await gql(
    `mutation($l: String!, $p: String!) { linkCmecfAccount(input: {login: $l, password: $p, confirm: true}) {
      privilege { id } errors { code message } } }`,
    { l: LEGACY.login, p: LEGACY.password },
    filer,
  );
  const expectAll = [
    "account.linked", "privilege.cases_changed", "privilege.granted", "privilege.granted", "privilege.revoked",
    "registration.decided", "registration.submitted", "registration.submitted", "registration.withdrawn",
  ];
  const toAll = await delivered(expectAll.length, 30, "/hooks/all");
  const toSome = await delivered(2, 30, "/hooks/some");
  await pause(2500); // a second round or two: anything sent twice, or to the wrong endpoint, shows
  const atAll = received.filter((r) => r.url === "/hooks/all");
  const atSome = received.filter((r) => r.url === "/hooks/some");
  const typesOf = (secret, deliveries) =>
    deliveries.map((d) => (verifies(secret, d) ? new Webhook(secret).verify(d.body, d.headers).type : "UNVERIFIED")).sort();
  check(checks, "every event type arrives once at the endpoint asking for all, and verifies", JSON.stringify(typesOf(all.secret, atAll)) === JSON.stringify(expectAll), {
    got: typesOf(all.secret, atAll),
    expected: expectAll,
  });
  check(checks, "the endpoint asking for two types gets those alone, once each, and they verify", JSON.stringify(typesOf(some.secret, atSome)) === JSON.stringify(["account.linked", "privilege.revoked"]), {
    got: typesOf(some.secret, atSome),
  });
  check(checks, "no secret of one endpoint verifies another's deliveries", !verifies(all.secret, toSome[0]) && !verifies(some.secret, toAll[0]));
  check(checks, "every delivery has its own webhook-id", new Set([...atAll, ...atSome].map((d) => d.headers["webhook-id"])).size === atAll.length + atSome.length);
  const byType = Object.fromEntries(atAll.map((d) => [JSON.parse(d.body).type, JSON.parse(d.body).data]));
  check(
    checks,
    "the data carry what a receiver acts on: the privilege, its role and cases, the account number",
    byType["privilege.cases_changed"].privilegeId === privilege &&
      byType["privilege.cases_changed"].cases.includes("1:26-cv-10002") &&
      byType["privilege.revoked"].privilegeId === privilege &&
      byType["account.linked"].court === "mad" &&
      Boolean(byType["account.linked"].pacerAccountNumber) &&
      linked.linkCmecfAccount.privilege !== null,
    { byType },
  );
  check(checks, "no password, token or secret is in any delivery", ![...atAll, ...atSome].some((d) => /password|token|whsec_/i.test(d.body)));

  // 6. Retry-After is honoured.
  // The first endpoint heard the decision too: two PINGs, a PING twice, the decision.
  const before = (await delivered(5, 30)).length;
  answers = [{ status: 503, headers: { "retry-after": "8" } }];
  const waited = await ping();
  const [refused, again] = (await delivered(before + 2, 40)).slice(before);
  const gap = (again.at - refused.at) / 1000;
  check(checks, "a 503 with Retry-After: 8 is tried again after 8 s, not the schedule's 5", again.headers["webhook-id"] === waited && gap >= 7.5, { gap });

  // 7. 410 disables the endpoint.
  answers = [410];
  await ping();
  await delivered(before + 3, 20);
  let status;
  for (let tries = 0; tries < 40; tries++) {
    status = (await gql("{ webhookEndpoints { id status disabledReason } }", {}, token)).webhookEndpoints.find((e) => e.id === endpoint.id);
    if (status.status === "DISABLED") break;
    await pause(250);
  }
  check(checks, "a 410 disables the endpoint and says why", status.status === "DISABLED" && /410/.test(status.disabledReason ?? ""), { status });

  server.close();
  finish(report);
} catch (error) {
  server.close();
  crash(report, error);
}
