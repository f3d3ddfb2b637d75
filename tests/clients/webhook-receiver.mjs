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
// Prints a JSON report; exit 1 if any check failed.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { check, crash, finish, urlArgument } from "./common.mjs";

const base = urlArgument("node webhook-receiver.mjs BASE_URL").replace(/\/+$/, "");
const report = { base, client: "standardwebhooks 1.1.1 (npm) Webhook.verify", checks: [] };
const checks = report.checks;
const CLERK = { username: "madclerk01", password: "Court-Docket-Review-2026!" };

const received = [];
const waiters = [];
let answers = [];

const server = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    received.push({ method: request.method, url: request.url, headers: { ...request.headers }, body });
    const status = answers.length ? answers.shift() : 200;
    response.writeHead(status, { "content-type": "text/plain" });
    response.end("ok");
    for (const wake of waiters.splice(0)) wake();
  });
});

function delivered(count, seconds = 20) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${count} deliveries did not arrive in ${seconds} s`)), seconds * 1000);
    const look = () => {
      if (received.length >= count) {
        clearTimeout(timer);
        resolve(received.slice(0, count));
      } else waiters.push(look);
    };
    look();
  });
}

async function gql(query, variables, token) {
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
  const signIn = await gql(
    "mutation($i: SignInInput!) { signIn(input: $i) { token errors { code } } }",
    { i: CLERK },
  );
  const token = signIn.signIn.token;
  const made = await gql(
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
  server.close();
  finish(report);
} catch (error) {
  server.close();
  crash(report, error);
}
