// Shared by the client scripts: argument checks, a fetch that records what it sends and gets,
// and the one-line JSON report each script prints on stdout.

export function urlArgument(usage) {
  const url = process.argv[2];
  if (!url || !/^https?:\/\//.test(url)) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  return url;
}

function headersOf(headers) {
  const out = {};
  if (!headers) return out;
  for (const [key, value] of new Headers(headers).entries()) out[key] = value;
  return out;
}

function parsed(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A fetch that forwards to Node's global fetch and keeps, for each exchange, the request
 * (method, URL, headers, body) and the response (status, content type, body).
 */
export function recordingFetch(log = []) {
  async function fetchAndRecord(input, init = {}) {
    const request = new Request(input, init);
    const body = init.body ?? null;
    const entry = {
      request: {
        method: request.method,
        url: request.url,
        headers: headersOf(init.headers ?? request.headers),
        body: typeof body === "string" ? parsed(body) : body,
      },
    };
    log.push(entry);
    const response = await fetch(input, init);
    const text = await response.clone().text();
    entry.response = {
      status: response.status,
      contentType: response.headers.get("content-type"),
      body: parsed(text),
    };
    return response;
  }
  fetchAndRecord.log = log;
  return fetchAndRecord;
}

/** Print the report as JSON on stdout and exit 0 when every check passed, else 1. */
export function finish(report) {
  const failed = (report.checks ?? []).filter((check) => !check.ok);
  report.ok = failed.length === 0 && !report.error;
  report.failed = failed.map((check) => check.name);
  process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  process.exit(report.ok ? 0 : 1);
}

/** A named check with the evidence that decides it. */
export function check(checks, name, ok, evidence = {}) {
  checks.push({ name, ok: Boolean(ok), ...evidence });
  return Boolean(ok);
}

/** A fatal error: report it, with what was exchanged so far. */
export function crash(report, error) {
  report.error = { message: String(error?.message ?? error), stack: error?.stack };
  if (error?.cause) {
    const cause = error.cause?.message ?? error.cause;
    report.error.cause = typeof cause === "object" ? JSON.stringify(cause) : String(cause);
  }
  finish(report);
}
