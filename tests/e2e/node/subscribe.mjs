// Subscribe to onPlanEvent with the npm graphql-ws client and print COUNT events as JSON lines.
// usage: node subscribe.mjs WS_URL PLAN_ID COUNT CONNECTION_PARAMS_JSON
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, planId, count, params] = process.argv.slice(2);
const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: JSON.parse(params), retryAttempts: 0 });
const query = `subscription($planId: ID!, $after: Int) {
  onPlanEvent(planId: $planId, after: $after) { planId kind entityId occurredAt data position }
}`;
let seen = 0;
const done = (code) => client.dispose().then(() => process.exit(code));
client.subscribe(
  { query, variables: { planId, after: 0 } },
  {
    next: (result) => {
      if (result.errors) {
        console.error(JSON.stringify(result.errors));
        done(2);
        return;
      }
      console.log(JSON.stringify(result.data.onPlanEvent));
      seen += 1;
      if (seen >= Number(count)) done(0);
    },
    error: (error) => {
      console.error(String(error && (error.reason || error.message || error)));
      done(1);
    },
    complete: () => done(seen >= Number(count) ? 0 : 3),
  },
);
