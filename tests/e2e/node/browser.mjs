// Drives headless Chromium (the Debian package) through playwright-core, with no network beyond
// localhost. Usage: node browser.mjs CONFIG_JSON. CONFIG: { chromium, frontendUrl, graphiqlUrl,
// token, userDataDir }. Prints one JSON object of what the pages showed; the Python test asserts.
import { chromium } from 'playwright-core';

const config = JSON.parse(process.argv[2]);
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const TIMEOUT_MS = 20000;

const context = await chromium.launchPersistentContext(config.userDataDir, {
  executablePath: config.chromium,
  headless: true,
  args: FLAGS,
});
const out = { blocked: [], console: [] };
try {
  // Only localhost and 127.0.0.1: anything else is refused and reported.
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === 'localhost' || hostname === '127.0.0.1') return route.continue();
    out.blocked.push(route.request().url());
    return route.abort();
  });
  const newPage = async () => {
    const opened = await context.newPage();
    opened.setDefaultTimeout(TIMEOUT_MS);
    opened.on('console', (message) => { if (message.type() === 'error') out.console.push(message.text()); });
    return opened;
  };
  let page = await newPage();

  // 1. A frontend on another origin runs PlanList and PlanTasks with a token.
  await page.goto(config.frontendUrl);
  await page.waitForSelector('#done');
  out.frontend = JSON.parse(await page.textContent('#done'));

  // 2. GraphiQL, from the server's own files, renders its editor and runs a query.
  // A fresh page whose stored GraphiQL state (headers, query) is set before any of its scripts runs.
  const graphiql = async (headers, query) => {
    await page.close();
    page = await newPage();
    await page.addInitScript(([h, q]) => {
      localStorage.clear();
      localStorage.setItem('graphiql:headers', h);
      localStorage.setItem('graphiql:query', q);
    }, [headers, query]);
    await page.goto(config.graphiqlUrl);
    await page.waitForSelector('.graphiql-query-editor .CodeMirror');
  };
  // GraphiQL may ignore a click while it still loads the schema: click until the answer shows.
  const runUntil = async (shown) => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      await page.click('.graphiql-execute-button');
      try {
        await page.waitForFunction(shown, null, { timeout: 1000 });
        return;
      } catch (error) {
        if (error.name !== 'TimeoutError') throw error;
      }
    }
    const result = await page.evaluate(() => document.querySelector('.result-window')?.textContent);
    throw new Error(`GraphiQL showed no such answer after 20 runs; it shows: ${result}`);
  };
  const query = '{ plans(first: 5) { edges { node { name } } } }';
  await graphiql(JSON.stringify({ Authorization: `Bearer ${config.token}` }), query);
  await runUntil(() => (document.querySelector('.result-window')?.textContent || '').includes('"name"'));
  out.graphiql = {
    editor: await page.isVisible('.graphiql-query-editor .CodeMirror'),
    result: await page.evaluate(() => document.querySelector('.result-window .CodeMirror').CodeMirror.getValue()),
  };

  // 3. A refused token: the page names the token command and the Headers pane.
  await graphiql(JSON.stringify({ Authorization: 'Bearer not-a-token' }), query);
  await runUntil(() => getComputedStyle(document.getElementById('token-help')).display !== 'none');
  out.tokenHelp = await page.textContent('#token-help');
} finally {
  await context.close();
}
console.log(JSON.stringify(out));
