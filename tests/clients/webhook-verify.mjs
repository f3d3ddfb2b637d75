// Verifies deliveries a test's own receiver recorded, with the Standard Webhooks npm package.
//
//   node webhook-verify.mjs DELIVERIES.json
//
// The file: {"secret": "whsec_...", "deliveries": [{"headers": {...}, "body": "..."}]}. Each
// delivery must verify with the secret (its signature, and a timestamp within five minutes).
// Prints a JSON report; exit 1 if any check failed.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";
import { check, crash, finish } from "./common.mjs";

const path = process.argv[2];
if (!path) {
  process.stderr.write("usage: node webhook-verify.mjs DELIVERIES.json\n");
  process.exit(2);
}
const report = { client: "standardwebhooks 1.1.1 (npm) Webhook.verify", checks: [] };
try {
  const { secret, deliveries } = JSON.parse(readFileSync(path, "utf8"));
  deliveries.forEach((delivery, index) => {
    let event = null;
    let error = null;
    try {
      event = new Webhook(secret).verify(delivery.body, delivery.headers);
    } catch (failed) {
      error = String(failed);
    }
    check(report.checks, `delivery ${index + 1} (${delivery.headers["webhook-id"]}) verifies`, event !== null, {
      error,
      type: event?.type,
    });
  });
  finish(report);
} catch (error) {
  crash(report, error);
}
