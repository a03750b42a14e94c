// The GraphQL-over-HTTP audit (npm graphql-http's serverAudits) against a running server.
// Usage: node audit.mjs URL [HEADERS_JSON]. Prints one JSON object: every result's id, name,
// status (ok, warn, error) and reason; the Python test asserts on it.
import { serverAudits } from 'graphql-http';

const [url, headersJson] = process.argv.slice(2);
const headers = headersJson ? JSON.parse(headersJson) : {};
const fetchFn = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...headers, ...Object.fromEntries(new Headers(init.headers ?? {})) } });

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  const result = await audit.fn();
  results.push({
    id: audit.id,
    name: audit.name,
    status: result.status,
    reason: result.status === 'ok' ? null : result.reason,
  });
}
console.log(JSON.stringify({ total: results.length, results }));
