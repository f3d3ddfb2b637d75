// graphql-http's GraphQL-over-HTTP server audits against one endpoint.
//
//   node audit.mjs http://127.0.0.1:8000/graphql
//
// Prints a JSON report: counts by status and, for every audit that is not "ok", its id, name,
// status, reason and the exact requests it sent with the responses it got. Exits 1 on any
// error (a MUST) or warning (a SHOULD); notices (MAY) are reported and do not fail.
import { serverAudits } from "graphql-http";
import { crash, finish, recordingFetch, urlArgument } from "./common.mjs";

const url = urlArgument("node audit.mjs URL");
const report = { url, client: "graphql-http 1.23.1 serverAudits" };

try {
  // Run one audit at a time, so that each one's requests are known.
  let current = [];
  const fetchFn = (input, init) => recordingFetch(current)(input, init);
  const audits = serverAudits({ url, fetchFn });
  const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
  const failures = [];
  for (const audit of audits) {
    current = [];
    const result = await audit.fn();
    counts[result.status] += 1;
    if (result.status !== "ok") {
      failures.push({
        id: result.id,
        name: result.name,
        status: result.status,
        reason: result.reason,
        exchanges: current,
      });
    }
  }
  report.total = audits.length;
  report.counts = counts;
  report.failures = failures;
  report.checks = failures
    .filter((failure) => failure.status === "error" || failure.status === "warn")
    .map((failure) => ({ name: `${failure.status} ${failure.id} ${failure.name}`, ok: false }));
  finish(report);
} catch (error) {
  crash(report, error);
}
