// Shared by the interop scripts. The JUnit side (io.pushbridge.samples.interop.NodeScript) starts a
// script with two arguments, a scenario name and a JSON object of settings, and talks to it by lines:
//
//   stdout: one JSON object per line: {"step": name, ...} while it runs (JUnit may act on it, e.g.
//           send a message in-process, restart the gateway), then exactly one {"result": {...}}
//           (exit code 0) or {"error": "...", "stack": "..."} (exit code 1)
//   stdin:  one JSON object per line, the answer to a step the script waits on (await nextCommand())
//
// Anything else a library prints goes to stderr, which JUnit keeps in a log file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const started = Date.now();

function write(object) {
  object.ms = Date.now() - started; // since the script started: for reading logs, never asserted
  // stdout is a pipe: synchronous on Linux, so nothing is lost by process.exit below
  process.stdout.write(JSON.stringify(object) + "\n");
}

/** Reports progress; JUnit waits for some steps by name. */
export function step(name, data = {}) {
  write({ step: name, ...data });
}

const commands = [];
const commandWaiters = [];
createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) {
    return;
  }
  const command = JSON.parse(line);
  const waiter = commandWaiters.shift();
  if (waiter) {
    waiter(command);
  } else {
    commands.push(command);
  }
});

/** The next line JUnit writes to stdin, as an object. */
export function nextCommand(what = "a command", timeoutMs = 15000) {
  if (commands.length) {
    return Promise.resolve(commands.shift());
  }
  return withTimeout(new Promise((resolve) => commandWaiters.push(resolve)), timeoutMs, "JUnit's answer to " + what);
}

/** Fails with a readable message when the promise does not settle in time. */
export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out after " + ms + " ms waiting for " + what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A condition that must hold; its message ends up in the test's failure. */
export function check(condition, message) {
  if (!condition) {
    throw new Error("check failed: " + message);
  }
}

/** A received value as JSON: binary (Buffer, ArrayBuffer, typed arrays) becomes {"$binary": base64}. */
export function describe(value) {
  if (value === undefined) {
    return { $undefined: true };
  }
  if (typeof value === "function") {
    return { $function: true };
  }
  if (Buffer.isBuffer(value)) {
    return { $binary: value.toString("base64"), type: "Buffer" };
  }
  if (value instanceof ArrayBuffer) {
    return { $binary: Buffer.from(value).toString("base64"), type: "ArrayBuffer" };
  }
  if (ArrayBuffer.isView(value)) {
    return { $binary: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
      type: value.constructor.name };
  }
  if (Array.isArray(value)) {
    return value.map(describe);
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describe(v)]));
  }
  return value;
}

/** POST /send of the gateway, as a site's backend does; answers {status, body}. */
export async function send(settings, message, { site = settings.site, apiKey = settings.apiKey, resync = false } = {}) {
  const query = new URLSearchParams({ site, apiKey });
  if (resync) {
    query.set("resync", "true");
  }
  const response = await fetch(settings.url + "/send?" + query, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(message),
  });
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch (e) {
    // not JSON: kept as text, the check below shows it
  }
  check(response.status === 200, "POST /send answered " + response.status + " " + text);
  return { status: response.status, body };
}

/**
 * Runs a script's scenario: prints its result line and exits 0, or prints the error and exits 1.
 * Settings come from the command line (argv[3], JSON); timeoutMs bounds the whole run.
 */
export function main(scenarios) {
  const name = process.argv[2];
  const settings = JSON.parse(process.argv[3] || "{}");
  const scenario = scenarios[name];
  const fail = (e) => {
    write({ error: String(e && e.message ? e.message : e), stack: e && e.stack ? String(e.stack) : undefined });
    process.exit(1);
  };
  if (!scenario) {
    fail(new Error("unknown scenario '" + name + "'; known: " + Object.keys(scenarios).join(", ")));
    return;
  }
  const timer = setTimeout(() => fail(new Error("scenario '" + name + "' did not finish within "
      + (settings.timeoutMs || 20000) + " ms")), settings.timeoutMs || 20000);
  process.on("unhandledRejection", fail);
  process.on("uncaughtException", fail);
  Promise.resolve()
    .then(() => scenario(settings))
    .then((result) => {
      clearTimeout(timer);
      write({ result: result === undefined ? {} : result });
      process.exit(0);
    }, fail);
}

/** Prints a step and waits for the test's answer to it. */
export async function confirm(name, data) {
  step(name, data);
  return nextCommand("step '" + name + "'");
}

// Needed on a closed network: without the background-networking flags Chromium keeps trying (and
// failing) to reach Google's services. --disable-dev-shm-usage: containers often give /dev/shm 64 MB,
// which crashes Chromium now and then.
const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

/** Runs use(context) in a headless Chromium (settings.chromium) with a fresh profile, removed after. */
export async function withChromium(settings, use) {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "pushbridge-interop-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: settings.chromium, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 900 },
      timeout: 30000,
    });
    try {
      return await use(context);
    } finally {
      await context.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
