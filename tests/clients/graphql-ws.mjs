// The npm graphql-ws client (graphql-transport-ws, over the `ws` package) against the real server.
//
//   node graphql-ws.mjs http://127.0.0.1:8000
//
// A fresh filer account (registered with a nonce) and mad's clerk, each on a client of their own:
//   1. The clerk subscribes to registrationEvents at /courts/mad/graphql with the token in
//      connectionParams; the filer submits a registration (HTTP): the clerk gets SUBMITTED.
//   2. The filer withdraws it and submits again; a second client resumes after the first
//      event's cursor and gets WITHDRAWN then SUBMITTED, in that order.
//   3. The filer follows myEvents; the clerk approves: REGISTRATION_DECIDED reaches the filer.
//   4. Refusals the client can act on: a filer's registrationEvents is an error coded
//      FORBIDDEN; a document that does not validate, GRAPHQL_VALIDATION_FAILED; a bad token
//      closes the socket 4403.
//   5. The filer signs out (HTTP): the filer's socket closes 4401 within 2 seconds.
// Prints a JSON report (every check with the messages behind it); exit 1 if any check failed.
import { randomBytes } from "node:crypto";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { check, crash, finish, urlArgument } from "./common.mjs";

const base = urlArgument("node graphql-ws.mjs BASE_URL  (e.g. http://127.0.0.1:8000)").replace(/\/+$/, "");
const wsBase = base.replace(/^http/, "ws");
const nonce = randomBytes(4).toString("hex");
const CLERK = { username: "madclerk01", password: "Court-Docket-Review-2026!" };
const FILER = { username: `wsfiler${nonce}`, password: "Maple-Lantern-Quiet-77" };
const report = { base, nonce, client: "graphql-ws 6.4.2 over ws 8.23.0", checks: [] };
const checks = report.checks;

const REGISTRATION_EVENTS = `subscription Queue($after: String) {
  registrationEvents(after: $after) { kind cursor registration { id status account { username } } } }`;
const MY_EVENTS = "subscription Mine { myEvents { kind court { code } registration { id status } } }";

async function gql(path, query, variables = {}, token = null) {
  const headers = { "content-type": "application/json", accept: "application/graphql-response+json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(base + path, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors) throw new Error(`${path}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

async function signIn({ username, password }) {
  const data = await gql(
    "/graphql",
    "mutation($u: String!, $p: String!) { signIn(input: {username: $u, password: $p}) { token errors { code } } }",
    { u: username, p: password },
  );
  return data.signIn.token;
}

/** A graphql-ws client that records what happens to its socket. */
function client(path, connectionParams) {
  const events = [];
  const c = createClient({
    url: wsBase + path,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    lazy: true,
    on: {
      connected: () => events.push({ at: Date.now(), event: "connected" }),
      closed: (e) => events.push({ at: Date.now(), event: "closed", code: e?.code, reason: e?.reason }),
    },
  });
  c.events = events;
  return c;
}

/** Subscribe; results and the end (complete or error) land in a queue read with `next`. */
function subscription(c, query, variables = {}) {
  const items = [];
  let wake = null;
  const push = (item) => {
    items.push(item);
    if (wake) wake();
  };
  const dispose = c.subscribe(
    { query, variables },
    {
      next: (value) => push({ type: "next", value }),
      error: (error) => push({ type: "error", error: describeError(error) }),
      complete: () => push({ type: "complete" }),
    },
  );
  async function next(ms = 5000) {
    const deadline = Date.now() + ms;
    while (!items.length) {
      const left = deadline - Date.now();
      if (left <= 0) return { type: "timeout" };
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, left);
      });
      wake = null;
    }
    return items.shift();
  }
  return { next, dispose, items };
}

function describeError(error) {
  if (Array.isArray(error)) return { errors: error };
  if (error && typeof error === "object" && "code" in error) return { code: error.code, reason: error.reason };
  return { message: String(error?.message ?? error) };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run `act` until the subscription hears something (its registration on the server may lag). */
async function whenSubscribed(sub, act, tries = 4) {
  for (let i = 0; i < tries; i++) {
    await act(i);
    const got = await sub.next(2000);
    if (got.type !== "timeout") return got;
  }
  return { type: "timeout" };
}

async function main() {
  await gql(
    "/graphql",
    `mutation($u: String!, $p: String!) { registerPacerAccount(input: {username: $u, password: $p,
      firstName: "Web", lastName: "Socket", email: "ws-${nonce}@example.org"}) { errors { code } } }`,
    { u: FILER.username, p: FILER.password },
  );
  const clerk = await signIn(CLERK);
  const filer = await signIn(FILER);
  const SUBMIT = "mutation { submitRegistration(input: {role: MEDIA}) { registration { id } errors { code } } }";
  const WITHDRAW = "mutation($id: ID!) { withdrawRegistration(id: $id) { errors { code } } }";
  const submitted = [];
  const submit = async () => {
    const data = await gql("/courts/mad/graphql", SUBMIT, {}, filer);
    submitted.push(data.submitRegistration.registration.id);
    return data.submitRegistration.registration.id;
  };

  // 1. The clerk hears a submission.
  const clerkClient = client("/courts/mad/graphql", { authorization: `Bearer ${clerk}` });
  const queue = subscription(clerkClient, REGISTRATION_EVENTS);
  const first = await whenSubscribed(queue, async (i) => {
    if (i > 0) await gql("/courts/mad/graphql", WITHDRAW, { id: submitted.at(-1) }, filer);
    await sleep(i === 0 ? 300 : 0);
    await submit();
  });
  // Earlier attempts may have been heard in part: read on to the last submission, then drain.
  let heard = first;
  const seen = [first];
  while (heard.type === "next" && !(heard.value.data.registrationEvents.kind === "SUBMITTED" &&
      heard.value.data.registrationEvents.registration.id === submitted.at(-1))) {
    heard = await queue.next();
    seen.push(heard);
  }
  const firstEvent = heard.value?.data?.registrationEvents;
  check(checks, "registrationEvents: the clerk hears the submission", firstEvent?.kind === "SUBMITTED" &&
    firstEvent.registration.account.username === FILER.username, { got: seen });
  let last = firstEvent;
  for (;;) {
    const more = await queue.next(700);
    if (more.type !== "next") break;
    last = more.value.data.registrationEvents;
  }

  // 2. Resume after that cursor on another client: what came after, in commit order.
  const current = submitted.at(-1);
  await gql("/courts/mad/graphql", WITHDRAW, { id: current }, filer);
  const again = await submit();
  const resumedClient = client("/courts/mad/graphql", { authorization: `Bearer ${clerk}` });
  const resumed = subscription(resumedClient, REGISTRATION_EVENTS, { after: last.cursor });
  const got = [await resumed.next(), await resumed.next()];
  const kinds = got.map((g) => g.value?.data?.registrationEvents && [g.value.data.registrationEvents.kind, g.value.data.registrationEvents.registration.id]);
  check(checks, "registrationEvents(after: cursor): the events after it, in commit order", JSON.stringify(kinds) ===
    JSON.stringify([["WITHDRAWN", current], ["SUBMITTED", again]]), { got, lastCursor: last.cursor });
  resumed.dispose();

  // 3. myEvents: the clerk's decision reaches the filer.
  const filerClient = client("/graphql", { authorization: `Bearer ${filer}` });
  const mine = subscription(filerClient, MY_EVENTS);
  await sleep(500);
  const DECIDE = "mutation($id: ID!) { decideRegistration(input: {id: $id, approve: true}) { errors { code } } }";
  const decided = await gql("/courts/mad/graphql", DECIDE, { id: again }, clerk);
  const mineEvent = await mine.next();
  check(checks, "myEvents: REGISTRATION_DECIDED reaches the applicant", decided.decideRegistration.errors.length === 0 &&
    mineEvent.value?.data?.myEvents?.kind === "REGISTRATION_DECIDED" &&
    mineEvent.value.data.myEvents.registration.status === "APPROVED" &&
    mineEvent.value.data.myEvents.court.code === "mad", { got: mineEvent });

  // 4. Refusals.
  const filerAtMad = client("/courts/mad/graphql", { authorization: `Bearer ${filer}` });
  const forbidden = subscription(filerAtMad, REGISTRATION_EVENTS.replace("subscription Queue", "subscription Forbidden"));
  const refused = await forbidden.next();
  check(checks, "a filer's registrationEvents: an error coded FORBIDDEN", refused.type === "error" &&
    refused.error.errors?.[0]?.extensions?.code === "FORBIDDEN", { got: refused });
  const invalid = subscription(filerClient, "subscription Bad { noSuchField }");
  const invalidGot = await invalid.next();
  check(checks, "a document that does not validate: GRAPHQL_VALIDATION_FAILED", invalidGot.type === "error" &&
    invalidGot.error.errors?.[0]?.extensions?.code === "GRAPHQL_VALIDATION_FAILED", { got: invalidGot });
  const stranger = client("/graphql", { authorization: "Bearer not-a-token" });
  const strangerGot = await subscription(stranger, MY_EVENTS).next();
  check(checks, "a bad token: the socket closes 4403", strangerGot.type === "error" && strangerGot.error.code === 4403,
    { got: strangerGot, events: stranger.events });

  // 5. Signing out ends the filer's subscriptions: 4401 within 2 s.
  const signedOutAt = Date.now();
  await gql("/graphql", "mutation { signOut { ok } }", {}, filer);
  let end = await mine.next(4000);
  while (end.type === "next") end = await mine.next(4000);  // the sign-out's own event may come first
  const took = Date.now() - signedOutAt;
  check(checks, "signing out closes the socket 4401 within 2 s", end.type === "error" && end.error.code === 4401 &&
    took <= 2000, { got: end, tookMs: took });

  queue.dispose();
  await clerkClient.dispose();
  await resumedClient.dispose();
  await filerClient.dispose();
  await filerAtMad.dispose();
  await stranger.dispose();
  finish(report);
}

main().catch((error) => crash(report, error));
