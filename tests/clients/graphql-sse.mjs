// The npm graphql-sse client (server-sent events, "distinct connections" mode) against the real server.
//
//   node graphql-sse.mjs http://127.0.0.1:8000
//
//   1. A query over the stream: one result, then the stream completes.
//   2. mad's clerk subscribes to registrationEvents with an Authorization header; a fresh
//      filer submits a registration (plain HTTP): the clerk's stream carries SUBMITTED.
//   3. A document that does not validate: the error comes through the stream, coded.
// Prints a JSON report; exit 1 if any check failed.
import { randomBytes } from "node:crypto";
import { createClient } from "graphql-sse";
import { check, crash, finish, urlArgument } from "./common.mjs";

const base = urlArgument("node graphql-sse.mjs BASE_URL  (e.g. http://127.0.0.1:8000)").replace(/\/+$/, "");
const nonce = randomBytes(4).toString("hex");
const report = { base, nonce, client: "graphql-sse 2.6.1 (distinct connections)", checks: [] };
const checks = report.checks;

async function gql(path, query, variables = {}, token = null) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const body = await (await fetch(base + path, { method: "POST", headers, body: JSON.stringify({ query, variables }) })).json();
  if (body.errors) throw new Error(`${path}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function signIn(username, password) {
  const data = await gql("/graphql", "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token } }",
    { u: username, p: password });
  return data.signIn.token;
}

/** Results of one operation until it completes, errs or `ms` pass. */
function run(client, payload, ms = 6000, onFirst = null) {
  return new Promise((resolve) => {
    const got = [];
    let timer = null;
    const done = (how) => {
      clearTimeout(timer);
      dispose();
      resolve({ how, got });
    };
    const dispose = client.subscribe(payload, {
      next: (value) => {
        got.push(value);
        if (onFirst && got.length === 1) onFirst();
        if (payload.stopAfter && got.length >= payload.stopAfter) done("enough");
      },
      error: (error) => {
        got.push({ error: Array.isArray(error) ? error : String(error?.message ?? error) });
        done("error");
      },
      complete: () => done("complete"),
    });
    timer = setTimeout(() => done("timeout"), ms);
  });
}

async function main() {
  const anonymous = createClient({ url: base + "/courts/mad/graphql" });
  const court = await run(anonymous, { query: "{ court { code } }" });
  check(checks, "a query over the stream: one result, then complete", court.how === "complete" &&
    JSON.stringify(court.got) === JSON.stringify([{ data: { court: { code: "mad" } } }]), { court });

  const invalid = await run(anonymous, { query: "subscription { noSuchField }" });
  const code = invalid.got[0]?.errors?.[0]?.extensions?.code ?? invalid.got[0]?.error?.[0]?.extensions?.code;
  check(checks, "a document that does not validate: its error through the stream", code === "GRAPHQL_VALIDATION_FAILED",
    { invalid });

  const username = `ssefiler${nonce}`;
  await gql("/graphql", `mutation($u: String!) { registerPacerAccount(input: {username: $u, password: "Maple-Lantern-Quiet-77",
    firstName: "Server", lastName: "Sent", email: "sse-${nonce}@example.org"}) { errors { code } } }`, { u: username });
  const filer = await signIn(username, "Maple-Lantern-Quiet-77");
  const clerk = await signIn("madclerk01", "Court-Docket-Review-2026!");
  const clerkClient = createClient({ url: base + "/courts/mad/graphql", headers: { authorization: `Bearer ${clerk}` } });
  const heard = run(clerkClient, {
    query: "subscription { registrationEvents { kind registration { account { username } } } }",
    stopAfter: 1,
  }, 12000);
  // The stream subscribes as it opens: until it hears something, withdraw and submit again.
  let settled = false;
  heard.then(() => { settled = true; });
  const SUBMIT = "mutation { submitRegistration(input: {role: MEDIA}) { registration { id } } }";
  for (let i = 0; i < 4 && !settled; i++) {
    await new Promise((resolve) => setTimeout(resolve, i === 0 ? 500 : 2000));
    if (settled) break;
    const made = await gql("/courts/mad/graphql", SUBMIT, {}, filer);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    if (!settled) {
      await gql("/courts/mad/graphql", "mutation($id: ID!) { withdrawRegistration(id: $id) { errors { code } } }",
        { id: made.submitRegistration.registration.id }, filer);
    }
  }
  const events = await heard;
  const event = events.got[0]?.data?.registrationEvents;
  check(checks, "registrationEvents over server-sent events: the clerk hears the submission",
    ["SUBMITTED", "WITHDRAWN"].includes(event?.kind) && event.registration.account.username === username, { events });
  anonymous.dispose();
  clerkClient.dispose();
  finish(report);
}

main().catch((error) => crash(report, error));
