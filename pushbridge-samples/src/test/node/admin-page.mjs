// Headless Chromium (Debian's, driven by playwright-core) on the gateway's admin page:
//   node admin-page.mjs page '<settings JSON>'
// settings: url, site, apiKey, adminKey, wrongKey, pagePath, chromium (the browser's path),
// screenshot (a PNG path), timeoutMs.
// Before the page opens, bob connects with the official socket.io-client and one message waits in
// alice's queue. On the page: a wrong key is refused, the right one shows the dashboard; a second
// message and a second client show up without a reload; the queue inspector reads and purges
// alice's queue and refuses a room that is not a user room; signing out forgets the key. Protocol
// with JUnit: lib.mjs.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { io } from "socket.io-client";
import { check, confirm, main, send, withChromium, withTimeout } from "./lib.mjs";

const WAIT_MS = 10000;
/** The page refreshes its overview every 5 s: one period and some margin. */
const REFRESH_WAIT_MS = 12000;

/** A socket.io client of the demo site, connected with its token. */
async function connectClient(settings, token) {
  const socket = io(settings.url + "/" + settings.site, { forceNew: true, reconnection: false, auth: { token } });
  await withTimeout(new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (e) => reject(new Error("connect_error for " + token + ": " + e.message)));
  }), WAIT_MS, token + "'s connection");
  return socket;
}

async function page(settings) {
  const clients = [await connectClient(settings, "bob")];
  try {
    const first = await send(settings, { rooms: ["user_alice"], event: "update_store", args: ["user", { id: 1 }] });
    check(first.body.queued === 1, "the first message is queued for alice: " + JSON.stringify(first.body));
    return await withChromium(settings, (context) => onThePage(settings, context, clients));
  } finally {
    clients.forEach((socket) => socket.disconnect());
  }
}

async function onThePage(settings, context, clients) {
  const origin = new URL(settings.url).origin;
  const pageUrl = settings.url + settings.pagePath + "/";
  // CSP violations, from the page's document (Chromium also logs them as console errors)
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
    });
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const pageErrors = [];
  const consoleErrors = [];
  const requests = [];
  const failedRequests = [];
  const errorResponses = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") {
      consoleErrors.push({ text: m.text(), url: m.location() && m.location().url ? m.location().url : "" });
    }
  });
  page.on("request", (r) => {
    requests.push({ method: r.method(), url: r.url(), keyHeader: r.headers()["x-pushbridge-admin-key"] || null });
  });
  page.on("requestfailed", (r) => failedRequests.push(r.url() + " " + (r.failure() ? r.failure().errorText : "")));
  page.on("response", (r) => {
    if (r.status() >= 400) {
      errorResponses.push({ status: r.status(), path: new URL(r.url()).pathname });
    }
  });
  let navigations = 0;
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) {
      navigations++;
    }
  });

  const response = await page.goto(pageUrl, { waitUntil: "load" });
  check(response.ok(), "the admin page answers " + response.status());
  const title = await page.title();
  const visible = (selector) => page.locator(selector).isVisible();
  const textOf = (selector) => page.locator(selector).textContent();

  // 1. the sign-in form; a wrong key is refused
  await page.locator("#login").waitFor({ state: "visible" });
  const start = { login: await visible("#login"), dashboard: await visible("#dashboard"), signOut: await visible("#sign-out") };
  await page.fill("#admin-key", settings.wrongKey);
  await page.locator("#login-form button[type=submit]").click();
  await page.waitForFunction(() => document.getElementById("login-error").textContent !== "");
  const refused = {
    error: await textOf("#login-error"),
    login: await visible("#login"),
    dashboard: await visible("#dashboard"),
    storedKeys: await page.evaluate(() => sessionStorage.length),
  };

  // 2. the right key: the dashboard
  await page.fill("#admin-key", settings.adminKey);
  await page.locator("#login-form button[type=submit]").click();
  await page.locator("#dashboard").waitFor({ state: "visible" });
  const demoRow = page.locator('#sites tbody tr[data-site="' + settings.site + '"]');
  await demoRow.waitFor();
  await page.waitForFunction(() => document.getElementById("connections-summary").textContent !== "");
  const siteCells = () => demoRow.locator("td").allTextContents();
  const dashboard = {
    login: await visible("#login"),
    signOut: await visible("#sign-out"),
    keyInputValue: await page.inputValue("#admin-key"),
    storedKey: await page.evaluate(() => sessionStorage.getItem("pushbridge.adminKey")),
    nodeId: await textOf("#node-id"),
    port: await textOf("#node-port"),
    running: await textOf("#node-running"),
    nodeConnections: await textOf("#node-connections"),
    updated: await textOf("#updated"),
    site: await siteCells(),
    nodes: await page.locator("#nodes tbody tr").allTextContents(),
    nodesError: await textOf("#nodes-error"),
    connectionsSummary: await textOf("#connections-summary"),
    connectionRows: await page.locator("#connections tbody tr").count(),
    inspectorOff: await visible("#inspector-off"),
    queueSites: await page.locator("#queue-site option").evaluateAll((options) => options.map((o) => o.value)),
  };
  await confirm("signed in");

  // 3. live: a second message for alice and carol's connection show up without a reload
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  const navigationsBefore = navigations;
  const second = await send(settings, { rooms: ["user_alice"], event: "update_store", args: ["user", { id: 2 }] });
  check(second.body.queued === 1, "the second message is queued for alice: " + JSON.stringify(second.body));
  clients.push(await connectClient(settings, "carol"));
  // the columns: site, namespace, authorizer, connections, queues, pending messages, oldest pending
  await page.waitForFunction((site) => {
    const cells = Array.from(document.querySelectorAll('#sites tbody tr[data-site="' + site + '"] td'));
    return cells.length === 7 && cells[3].textContent === "2" && cells[5].textContent === "2";
  }, settings.site, { timeout: REFRESH_WAIT_MS });
  await page.click("#connections-refresh");
  await page.waitForFunction(() => document.getElementById("connections-summary").textContent.startsWith("2 "));
  const live = {
    site: await siteCells(),
    nodeConnections: await textOf("#node-connections"),
    connectionsSummary: await textOf("#connections-summary"),
    // the static authorizer grants rooms, not a user id: the rooms tell bob from carol (in no set order)
    connectionRooms: (await page.locator("#connections tbody tr td:nth-child(5)").allTextContents())
      .map((rooms) => rooms.split(", ").sort().join(", ")),
    sameDocument: await page.evaluate(() => window.__sameDocument === true),
    navigations: navigations - navigationsBefore,
  };

  // 4. the queue inspector reads alice's queue
  await page.selectOption("#queue-site", settings.site);
  await page.fill("#queue-room", "user_alice");
  await page.click("#queue-read");
  const pendingField = page.locator('#queue-details dd[data-field="Pending messages"]');
  await pendingField.waitFor();
  const details = async () => Object.fromEntries(await page.locator("#queue-details dd").evaluateAll(
      (dds) => dds.map((dd) => [dd.dataset.field, dd.textContent])));
  const read = { resultClass: await page.getAttribute("#queue-result", "class"), fields: await details() };

  // 5. purge, after accepting the confirmation
  const dialogs = [];
  page.once("dialog", async (dialog) => {
    dialogs.push({ type: dialog.type(), message: dialog.message() });
    await dialog.accept();
  });
  await page.click("#queue-purge");
  await page.locator("#queue-purged").waitFor();
  const purge = { purged: await textOf("#queue-purged"), fields: await details(), dialogs };
  // the sites table follows (the page refreshes it after a purge)
  await page.waitForFunction((site) => {
    const cells = Array.from(document.querySelectorAll('#sites tbody tr[data-site="' + site + '"] td'));
    return cells.length === 7 && cells[4].textContent === "0" && cells[5].textContent === "0";
  }, settings.site);
  purge.site = await siteCells();
  mkdirSync(dirname(settings.screenshot), { recursive: true });
  await page.screenshot({ path: settings.screenshot, fullPage: true });
  // the gateway agrees: its inspector, asked directly, finds the queue empty
  const inspected = await fetch(settings.url + settings.pagePath + "/queue?" + new URLSearchParams({
    site: settings.site, room: "user_alice" }), { headers: { "X-PushBridge-Admin-Key": settings.adminKey } });
  purge.inspectorAfter = { status: inspected.status, body: await inspected.json() };
  await confirm("purged");

  // 6. a room that is not a user room
  await page.fill("#queue-room", "staff");
  await page.click("#queue-read");
  await page.locator("#queue-result.error").waitFor();
  const notUserRoom = { text: await textOf("#queue-result"), details: await page.locator("#queue-details").count() };

  // 8. signing out forgets the key
  await page.click("#sign-out");
  await page.locator("#login").waitFor({ state: "visible" });
  const signedOut = {
    login: await visible("#login"),
    dashboard: await visible("#dashboard"),
    signOut: await visible("#sign-out"),
    loginError: await textOf("#login-error"),
    storedKeys: await page.evaluate(() => sessionStorage.length),
  };

  // 7. what went over the wire and what the browser complained about
  const keys = [settings.adminKey, settings.wrongKey];
  const urlsWithAKey = requests.map((r) => r.url)
    .filter((url) => keys.some((key) => url.includes(key) || url.includes(encodeURIComponent(key))));
  const jsonRequests = requests.filter((r) => !/\/(|admin\.js|admin\.css|favicon\.svg)$/.test(new URL(r.url).pathname));
  return {
    title, start, refused, dashboard, live, read, purge, notUserRoom, signedOut,
    requestPaths: requests.map((r) => r.method + " " + new URL(r.url).pathname),
    foreignRequests: requests.map((r) => r.url).filter((url) => !url.startsWith(origin + "/")),
    urlsWithAKey,
    jsonRequestsWithoutKeyHeader: jsonRequests.filter((r) => !keys.includes(r.keyHeader)).map((r) => r.url),
    errorResponses,
    consoleErrors,
    cspViolations: await page.evaluate(() => window.__cspViolations),
    pageErrors,
    failedRequests,
    screenshot: settings.screenshot,
  };
}

main({ page });
