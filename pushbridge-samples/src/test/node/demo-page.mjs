// Headless Chromium (Debian's, driven by playwright-core) on the sample gateway's demo page:
//   node demo-page.mjs page '<settings JSON>'
// settings: url, site, apiKey, chromium (the browser's path), screenshot (a PNG path), timeoutMs.
// A user is refused, then alice connects, receives a message sent over HTTP, acks it with the
// page's button, sends from the page's form to a group room and receives it, and gets what was sent
// while she was disconnected as one batch. Protocol with JUnit: lib.mjs.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { check, confirm, main, send, withChromium } from "./lib.mjs";

const WAIT_MS = 10000;

async function page(settings) {
  return withChromium(settings, (context) => onThePage(settings, context));
}

async function onThePage(settings, context) {
  const origin = new URL(settings.url).origin;
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const pageErrors = [];
  const consoleErrors = [];
  const foreignRequests = [];
  const failedRequests = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") {
      consoleErrors.push(m.text() + (m.location() && m.location().url ? " (" + m.location().url + ")" : ""));
    }
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(origin + "/")) {
      foreignRequests.push(r.url());
    }
  });
  page.on("requestfailed", (r) => failedRequests.push(r.url() + " " + (r.failure() ? r.failure().errorText : "")));
  // every answer of 400 or more, with its body and the time since the page opened: the console only
  // says "Failed to load resource"
  const opened = Date.now();
  const errorResponses = [];
  page.on("response", async (r) => {
    if (r.status() >= 400) {
      let body = "";
      try {
        body = await r.text();
      } catch (e) {
        body = "(unreadable: " + e.message + ")";
      }
      errorResponses.push({ url: r.url(), method: r.request().method(), status: r.status(), body, ms: Date.now() - opened });
    }
  });

  const response = await page.goto(settings.url + "/", { waitUntil: "load" });
  check(response.ok(), "the demo page answers " + response.status());
  const title = await page.title();
  const userOptions = await page.locator("#user option").evaluateAll((options) => options.map((o) => o.value));
  const state = () => page.locator("#state").textContent();

  // a token that is not in the table: the page shows the connect_error's message and code
  await page.selectOption("#user", "mallory");
  await page.click("#connect");
  await page.locator("#connect-error").waitFor({ state: "visible" });
  const refused = {
    state: await state(),
    message: await page.locator("#connect-error-message").textContent(),
    code: await page.locator("#connect-error-code").textContent(),
  };

  // alice connects
  await page.selectOption("#user", "alice");
  await page.click("#connect");
  await page.waitForFunction(() => document.getElementById("state").textContent === "connected");
  const socketId = await page.locator("#socket-id").textContent();
  const myRooms = await page.locator("#my-rooms").textContent();
  check(await page.locator("#connect-error").isHidden(), "the connect_error is hidden once connected");

  // a message over HTTP to her user room: shown with its ack button, acked with a click
  const sent = await send(settings, { rooms: ["user_alice"], event: "update_store", args: ["user", { id: 1, age: 5 }] });
  const item = page.locator("#events > li.event", { has: page.locator(".name", { hasText: "update_store" }) }).first();
  await item.waitFor();
  const received = {
    badge: await item.locator(".event-head .badge").textContent(),
    args: JSON.parse(await item.locator("pre").first().textContent()),
  };
  await confirm("received", { socketId });
  await item.locator("button.ack").click();
  await page.waitForFunction(() => {
    const button = document.querySelector("#events > li.event button.ack");
    return button && button.textContent === "acked" && button.disabled;
  });
  await confirm("acked");

  // the page's send form, to the group room staff (alice is in it): answered 200, and received
  await page.fill("#rooms", "staff");
  await page.fill("#event", "note");
  await page.fill("#args", '["hello from the page", {"n": 2}]');
  await page.click("#send-form button[type=submit]");
  await page.waitForFunction(() => !document.getElementById("send-result").hidden);
  const formAnswer = {
    status: await page.locator("#send-status").textContent(),
    body: JSON.parse(await page.locator("#send-body").textContent()),
    curl: await page.locator("#send-curl").textContent(),
  };
  const note = page.locator("#events > li.event", { has: page.locator(".name", { hasText: "note" }) }).first();
  await note.waitFor();
  const noteReceived = {
    badge: await note.locator(".event-head .badge").textContent(),
    args: JSON.parse(await note.locator("pre").first().textContent()),
  };

  // disconnected, a message to her user room from the form; on connect it comes as a batch
  await page.click("#disconnect");
  await page.waitForFunction(() => document.getElementById("state").textContent.startsWith("disconnected"));
  await page.fill("#rooms", "user_alice");
  await page.fill("#event", "update_store");
  await page.fill("#args", '["user", {"id": 2, "age": 6}]');
  await page.evaluate(() => {
    document.getElementById("send-result").hidden = true;
  });
  await page.click("#send-form button[type=submit]");
  await page.waitForFunction(() => !document.getElementById("send-result").hidden);
  const offlineAnswer = {
    status: await page.locator("#send-status").textContent(),
    body: JSON.parse(await page.locator("#send-body").textContent()),
  };
  await page.click("#connect");
  await page.waitForFunction(() => document.getElementById("state").textContent === "connected");
  const batchItem = page.locator("#events > li.event.batch").first();
  await batchItem.waitFor();
  const batch = {
    text: await batchItem.locator("p.hint").textContent(),
    events: await batchItem.locator(".batch-events > li .name").allTextContents(),
  };
  await batchItem.locator("button.ack").click();
  await page.waitForFunction(() => {
    const button = document.querySelector("#events > li.event.batch button.ack");
    return button && button.textContent === "acked";
  });
  await confirm("batch acked");

  const events = await page.locator("#events > li.event .event-head .name").allTextContents();
  mkdirSync(dirname(settings.screenshot), { recursive: true });
  await page.screenshot({ path: settings.screenshot, fullPage: true });
  return {
    title, userOptions, refused, socketId, myRooms, sent: sent.body, received, formAnswer, noteReceived,
    offlineAnswer, batch, events, pageErrors, consoleErrors, errorResponses, foreignRequests, failedRequests,
    screenshot: settings.screenshot,
  };
}

main({ page });
