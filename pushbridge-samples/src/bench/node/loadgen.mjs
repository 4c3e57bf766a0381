// The load generator of the load benchmark: real socket.io-client v4 connections (WebSocket only,
// the same for PushBridge and the reference) in worker threads, and a sender posting to the send API
// at a target rate from the main thread. Started by io.pushbridge.samples.bench.LoadBenchmark:
//
//   node loadgen.mjs '<settings as JSON>'
//
// It talks to the orchestrator by lines, as the interop scripts do (NodeScript): on stdout one JSON
// object per line, {"step": name, ...} after each phase (the orchestrator samples the servers' CPU
// and memory, then answers on stdin with one line, and the next phase starts), then exactly one
// {"result": {...}} (exit code 0) or {"error": "..."} (exit code 1). Logs go to stderr.
//
// Phases: "ready" (workers up, nothing connected), "connected" (the C clients connected as fast as
// the connect concurrency allows), and with a rate: "warmed" (the warm-up sends were delivered),
// "measured" (the measured sends were delivered, or the drain timed out). Each message carries its
// room's sequence number and its send time (process.hrtime, one monotonic clock for every thread of
// the process), so that a client finds lost and duplicated messages and the receipt latency.
// Messages for a user room come with an ack callback, which the client calls.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import net from "node:net";

const EVENT = "bench";

function nowUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

// ---- latency histogram: buckets of 1% width over microseconds, summed across workers ----------
const BUCKETS = 2000;
const LOG_BASE = Math.log(1.01);

function bucketOf(us) {
  return Math.min(BUCKETS - 1, Math.max(0, Math.ceil(Math.log(Math.max(us, 1)) / LOG_BASE)));
}

function percentile(histogram, total, p) {
  if (total === 0) {
    return null;
  }
  const rank = Math.ceil(total * p);
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i];
    if (seen >= rank) {
      return Math.pow(1.01, i) / 1000; // ms, the bucket's upper bound
    }
  }
  return null;
}

// ---- shared counters (Int32 each, per worker) -------------------------------------------------
const C_CONNECTED = 0;
const C_FAILED = 1;
const C_RECEIVED = 2; // distinct deliveries, any phase
const C_MEASURED = 3; // distinct deliveries of measured messages
const C_DUPS = 4;
const C_DISCONNECTS = 5;
const C_COUNT = 8;

// ================================================================================================
async function main() {
  const settings = {
    urls: [],
    sendUrl: "",
    site: "bench",
    namespace: "/bench",
    apiKey: "bench-key",
    userRoomPrefix: "user_",
    fanoutRoom: "all",
    mode: "fanout", // fanout | targeted | idle
    clients: 100,
    workers: 2,
    connectConcurrency: 200,
    connectTimeoutMs: 120000,
    rate: 100, // sends per second
    burst: 1, // sends posted back to back, at the same rate on average
    warmupSec: 5,
    measureSec: 10,
    drainTimeoutMs: 15000,
    maxInFlight: 256,
    maxSockets: 32,
    stepTimeoutMs: 300000,
    ...JSON.parse(process.argv[2] ?? "{}"),
  };
  const started = Date.now();
  const write = (object) => process.stdout.write(JSON.stringify({ ...object, ms: Date.now() - started }) + "\n");
  const log = (...parts) => console.error(new Date().toISOString(), ...parts);

  const answers = [];
  const waiters = [];
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (!line.trim()) return;
    const answer = JSON.parse(line);
    const waiter = waiters.shift();
    if (waiter) waiter(answer);
    else answers.push(answer);
  }).on("close", () => {
    // the orchestrator is gone (Ctrl-C, a crash): nobody reads the result
    log("stdin closed: stopping");
    process.exit(2);
  });
  const step = async (name, data = {}) => {
    write({ step: name, ...data });
    if (answers.length) return answers.shift();
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no answer to step " + name + " within " + settings.stepTimeoutMs + " ms")), settings.stepTimeoutMs);
      waiters.push((answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
    });
  };

  try {
    const result = await run(settings, step, log);
    write({ result });
    process.exit(0);
  } catch (e) {
    write({ error: String(e?.message ?? e), stack: String(e?.stack ?? "") });
    process.exit(1);
  }
}

async function run(settings, step, log) {
  const workerCount = Math.max(1, Math.min(settings.workers, settings.clients));
  const counters = new Int32Array(new SharedArrayBuffer(4 * C_COUNT * workerCount));
  const sum = (index) => {
    let total = 0;
    for (let w = 0; w < workerCount; w++) total += Atomics.load(counters, w * C_COUNT + index);
    return total;
  };

  // clients i = w, w + W, w + 2W, ... live in worker w; client i is user i, on urls[i % urls.length]
  const workers = [];
  for (let w = 0; w < workerCount; w++) {
    const worker = new Worker(fileURLToPath(import.meta.url), {
      workerData: { settings, index: w, workerCount, counters },
    });
    const pending = new Map();
    worker.on("message", (m) => {
      const resolve = pending.get(m.reply);
      pending.delete(m.reply);
      resolve?.(m);
    });
    worker.on("error", (e) => {
      log("worker", w, "failed:", e);
      process.exit(1);
    });
    let calls = 0;
    workers.push({
      call: (command) => new Promise((resolve) => {
        const id = ++calls;
        pending.set(id, resolve);
        worker.postMessage({ ...command, id });
      }),
      worker,
    });
  }
  await Promise.all(workers.map((w) => w.call({ type: "ping" })));

  await step("ready", { clients: settings.clients, workers: workerCount });

  // ---- connect phase -----------------------------------------------------------------------
  const cpu0 = process.cpuUsage();
  const t0 = nowUs();
  const connected = await Promise.all(workers.map((w) => w.call({ type: "connect" })));
  const lastConnectUs = Math.max(...connected.map((m) => m.lastConnectUs));
  const connectCpu = process.cpuUsage(cpu0);
  const connectMs = (lastConnectUs - t0) / 1000;
  const failedConnects = sum(C_FAILED);
  const connectErrors = connected.flatMap((m) => m.errors).slice(0, 5);
  const connect = {
    connected: sum(C_CONNECTED),
    failed: failedConnects,
    errors: connectErrors,
    ms: connectMs,
    perSecond: connectMs > 0 ? sum(C_CONNECTED) / (connectMs / 1000) : null,
    loadgenCpuUsPerConnection: sum(C_CONNECTED) ? (connectCpu.user + connectCpu.system) / sum(C_CONNECTED) : null,
  };
  log("connected", JSON.stringify(connect));
  await step("connected", connect);

  const result = { mode: settings.mode, clients: settings.clients, workers: workerCount, connect };
  if (settings.mode !== "idle" && settings.rate > 0 && connect.connected > 0) {
    // ---- sending: warm-up, then measure; each drained before the next step ----------------
    const sender = new Sender(settings, log);
    const perSend = settings.mode === "fanout" ? connect.connected : 1;
    if (settings.warmupSec > 0) {
      const warm = await sender.sendFor(settings.warmupSec, 0);
      await drain(() => sum(C_RECEIVED), sender.ok * perSend, settings.drainTimeoutMs);
      log("warmed", JSON.stringify(warm));
      await step("warmed", { sent: warm.ok });
    } else {
      await step("warmed", { sent: 0 });
    }
    const receivedBefore = sum(C_RECEIVED);
    const cpu1 = process.cpuUsage();
    const measured = await sender.sendFor(settings.measureSec, 1);
    const expectedMeasured = measured.ok * perSend;
    const drained = await drain(() => sum(C_MEASURED), expectedMeasured, settings.drainTimeoutMs);
    const cpu = process.cpuUsage(cpu1);
    log("measured", JSON.stringify(measured), "drained", drained);
    await step("measured", { sent: measured.ok });

    // ---- what the clients saw --------------------------------------------------------------
    const reports = await Promise.all(workers.map((w) => w.call({ type: "report", sent: sender.sentPerRoom() })));
    const histogram = new Array(BUCKETS).fill(0);
    let lost = 0;
    let unexpected = 0;
    let ambiguous = 0;
    let lastReceiptUs = 0;
    for (const r of reports) {
      r.histogram.forEach((n, i) => (histogram[i] += n));
      lost += r.lost;
      unexpected += r.unexpected;
      ambiguous += r.ambiguous;
      lastReceiptUs = Math.max(lastReceiptUs, r.lastMeasuredUs);
    }
    const delivered = sum(C_MEASURED);
    const windowUs = Math.max(measured.endUs, lastReceiptUs) - measured.startUs;
    result.send = {
      targetPerSecond: settings.rate,
      warmupSec: settings.warmupSec,
      measureSec: settings.measureSec,
      sent: measured.ok,
      sendErrors: sender.errors,
      sendErrorSamples: sender.errorSamples,
      achievedPerSecond: measured.ok / ((measured.endUs - measured.startUs) / 1e6),
      behindAtEnd: measured.behind,
      httpLatencyMs: {
        p50: percentile(sender.histogram, sender.histogramCount, 0.5),
        p99: percentile(sender.histogram, sender.histogramCount, 0.99),
      },
    };
    result.delivery = {
      expected: expectedMeasured,
      delivered,
      deliveredPerSecond: windowUs > 0 ? delivered / (windowUs / 1e6) : null,
      drained,
      lost,
      duplicates: sum(C_DUPS),
      unexpected,
      deliveredDespiteFailedSend: ambiguous,
      receivedTotal: sum(C_RECEIVED),
      receivedBeforeMeasure: receivedBefore,
      latencyMs: {
        p50: percentile(histogram, delivered, 0.5),
        p99: percentile(histogram, delivered, 0.99),
        p999: percentile(histogram, delivered, 0.999),
        max: percentile(histogram, delivered, 1),
      },
    };
    result.loadgenCpu = {
      userUs: cpu.user,
      systemUs: cpu.system,
      usPerDelivered: delivered ? (cpu.user + cpu.system) / delivered : null,
      share: windowUs > 0 ? (cpu.user + cpu.system) / windowUs : null, // cores used on average
    };
    sender.close();
  }
  result.disconnects = sum(C_DISCONNECTS);
  await Promise.all(workers.map((w) => w.call({ type: "close" })));
  for (const w of workers) await w.worker.terminate();
  return result;
}

/**
 * Waits until the clients got what the successful sends carried and then nothing more came for
 * 300 ms: a failed send's message may arrive too and count, so reaching the number alone does not
 * mean that every successful one arrived.
 */
async function drain(count, expected, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let quietSince = Date.now();
  while (true) {
    const now = Date.now();
    const n = count();
    if (n !== last) {
      last = n;
      quietSince = now;
    } else if (n >= expected && now - quietSince >= 300) {
      return true;
    }
    if (now > deadline) return n >= expected;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Posts to the send API at a target rate over keep-alive connections (maxSockets of them, one
 * request at a time on each, the rest waiting in line), and counts per room what succeeded. A
 * minimal HTTP/1.1 client on plain sockets: node:http's client costs several times the CPU per
 * request, which would make the load generator the bottleneck of the targeted scenarios.
 */
class Sender {
  constructor(settings, log) {
    this.settings = settings;
    this.log = log;
    const url = new URL(settings.sendUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.head = "POST /send?site=" + encodeURIComponent(settings.site) + " HTTP/1.1\r\nHost: " + url.host
      + "\r\nContent-Type: application/json\r\nX-Api-Key: " + settings.apiKey + "\r\nContent-Length: ";
    this.idle = [];
    this.open = 0;
    this.queue = [];
    this.fanoutSeq = 0; // next sequence number of the fan-out room
    this.userSeq = new Int32Array(settings.clients); // next sequence number of each user room
    this.failedFanout = []; // sequence numbers whose send failed: the message may or may not have gone out
    this.failedUser = {};
    this.ok = 0;
    this.errors = 0;
    this.errorSamples = [];
    this.inFlight = 0;
    this.histogram = new Array(BUCKETS).fill(0);
    this.histogramCount = 0;
  }

  /** Sends at the rate for that many seconds, then waits for the answers; messages tagged w. */
  async sendFor(seconds, w) {
    const { rate, burst, maxInFlight, clients, mode } = this.settings;
    const okBefore = this.ok;
    const startUs = nowUs();
    const total = Math.max(1, Math.round(rate * seconds));
    let issued = 0;
    let behind = 0;
    const pause = Math.max(1, Math.min(20, Math.floor(1000 / rate))); // ms between ticks
    await new Promise((resolve) => {
      const tick = () => {
        // every burst's sends are due at once: burst 1 spaces them evenly
        const due = Math.min(total, (Math.floor((((nowUs() - startUs) / 1e6) * rate) / burst) + 1) * burst);
        while (issued < due && this.inFlight < maxInFlight) {
          issued++;
          if (mode === "fanout") {
            const seq = this.fanoutSeq++;
            this.post([this.settings.fanoutRoom], { k: 0, s: seq, w }, () => this.failedFanout.push(seq));
          } else {
            const user = Math.floor(Math.random() * clients);
            const seq = this.userSeq[user]++;
            this.post([this.settings.userRoomPrefix + user], { k: 1, s: seq, w }, () => (this.failedUser[user] ??= []).push(seq));
          }
        }
        if (issued >= total) {
          behind = due - issued;
          return resolve();
        }
        setTimeout(tick, pause);
      };
      tick();
    });
    const endUs = nowUs();
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
    return { ok: this.ok - okBefore, startUs, endUs, behind };
  }

  post(rooms, message, onFailure) {
    this.inFlight++;
    message.t = nowUs();
    const body = JSON.stringify({ rooms, event: EVENT, args: [message] });
    const request = { data: this.head + Buffer.byteLength(body) + "\r\n\r\n" + body, sentUs: message.t, onFailure };
    const connection = this.idle.pop();
    if (connection) this.write(connection, request);
    else {
      this.queue.push(request);
      if (this.open < this.settings.maxSockets) this.connect();
    }
  }

  connect() {
    this.open++;
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    const connection = { socket, request: null, buffer: null };
    socket.on("connect", () => this.next(connection));
    socket.on("data", (chunk) => this.read(connection, chunk));
    const gone = (why) => {
      if (connection.closed) return;
      connection.closed = true;
      this.open--;
      const i = this.idle.indexOf(connection);
      if (i >= 0) this.idle.splice(i, 1);
      if (connection.request) this.done(connection.request, "connection " + why + " with the request unanswered");
      if (this.queue.length && this.open < this.settings.maxSockets) this.connect();
    };
    socket.on("error", (e) => gone("failed: " + e.message));
    socket.on("close", () => gone("closed"));
  }

  next(connection) {
    const request = this.queue.shift();
    if (request) this.write(connection, request);
    else this.idle.push(connection);
  }

  write(connection, request) {
    connection.request = request;
    connection.socket.write(request.data);
  }

  read(connection, chunk) {
    let buffer = connection.buffer ? Buffer.concat([connection.buffer, chunk]) : chunk;
    const end = buffer.indexOf("\r\n\r\n");
    if (end < 0) {
      connection.buffer = buffer;
      return;
    }
    const head = buffer.toString("latin1", 0, end);
    const length = /\r\ncontent-length: *([0-9]+)/i.exec(head);
    if (!length) {
      connection.buffer = null;
      connection.socket.destroy(new Error("an answer without Content-Length: " + head.slice(0, 100)));
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (buffer.length < total) {
      connection.buffer = buffer;
      return;
    }
    connection.buffer = buffer.length > total ? buffer.subarray(total) : null;
    const status = Number(head.slice(9, 12));
    const request = connection.request;
    connection.request = null;
    this.done(request, status === 200 ? null : head.split("\r\n")[0] + " " + buffer.toString("utf8", end + 4, Math.min(total, end + 204)));
    if (/\r\nconnection: *close/i.test(head)) connection.socket.end();
    else this.next(connection);
  }

  done(request, failure) {
    this.inFlight--;
    this.histogram[bucketOf(nowUs() - request.sentUs)]++;
    this.histogramCount++;
    if (failure === null) {
      this.ok++;
    } else {
      request.onFailure();
      this.errors++;
      if (this.errorSamples.length < 5 && !this.errorSamples.includes(failure)) {
        this.errorSamples.push(failure); // the distinct ones
        this.log("send failed:", failure);
      }
    }
  }

  /** What each room was sent, and which of those sends failed, for the clients' loss count. */
  sentPerRoom() {
    return { fanout: this.fanoutSeq, user: this.userSeq, failedFanout: this.failedFanout, failedUser: this.failedUser };
  }

  close() {
    for (const c of this.idle) c.socket.destroy();
  }
}

// ================================================================================================
function worker() {
  const { settings, index, workerCount, counters } = workerData;
  const base = index * C_COUNT;
  const add = (i, n = 1) => Atomics.add(counters, base + i, n);
  const clients = []; // {user, socket, fanout: Uint8Array, user: Uint8Array}
  const histogram = new Array(BUCKETS).fill(0);
  let lastMeasuredUs = 0;
  let closing = false;
  const ioPromise = import("socket.io-client");

  // seen[seq] as a growing byte array
  const mark = (holder, key, seq) => {
    let seen = holder[key];
    if (seq >= seen.length) {
      const grown = new Uint8Array(Math.max(seq + 1, seen.length * 2));
      grown.set(seen);
      holder[key] = seen = grown;
    }
    if (seen[seq]) return false;
    seen[seq] = 1;
    return true;
  };

  async function connect() {
    const { io } = await ioPromise;
    const mine = [];
    for (let i = index; i < settings.clients; i += workerCount) mine.push(i);
    const concurrency = Math.max(1, Math.floor(settings.connectConcurrency / workerCount));
    let next = 0;
    let lastConnectUs = 0;
    const errors = [];
    const open = (user) => new Promise((resolve) => {
      const url = settings.urls[user % settings.urls.length] + settings.namespace;
      const socket = io(url, {
        transports: ["websocket"],
        forceNew: true,
        reconnection: false,
        timeout: settings.connectTimeoutMs,
        auth: { token: String(user) },
      });
      const client = { user, socket, seen: { fanout: new Uint8Array(64), user: new Uint8Array(8) }, received: 0, receivedMeasured: 0 };
      socket.on(EVENT, (message, ack) => {
        const now = nowUs();
        if (typeof ack === "function") ack();
        const fresh = mark(client.seen, message.k === 0 ? "fanout" : "user", message.s);
        if (!fresh) {
          add(C_DUPS);
          return;
        }
        client.received++;
        add(C_RECEIVED);
        if (message.w === 1) {
          add(C_MEASURED);
          histogram[bucketOf(now - message.t)]++;
          if (now > lastMeasuredUs) lastMeasuredUs = now;
        }
      });
      socket.once("connect", () => {
        add(C_CONNECTED);
        lastConnectUs = nowUs();
        clients.push(client);
        socket.on("disconnect", (reason) => {
          if (!closing) {
            add(C_DISCONNECTS);
            if (errors.length < 5) errors.push("client " + user + " disconnected: " + reason);
          }
        });
        resolve();
      });
      socket.once("connect_error", (e) => {
        add(C_FAILED);
        if (errors.length < 5) errors.push("client " + user + ": " + e.message + (e.data ? " " + JSON.stringify(e.data) : ""));
        socket.close();
        resolve();
      });
    });
    await Promise.all(Array.from({ length: Math.min(concurrency, mine.length) }, async () => {
      while (next < mine.length) await open(mine[next++]);
    }));
    return { lastConnectUs, errors };
  }

  function report(sent) {
    let lost = 0;
    let unexpected = 0;
    let ambiguous = 0;
    // seqs below sent were posted; a failed send's message may have gone out or not: neither lost nor unexpected
    const count = (seen, sent, failed) => {
      const skip = new Set(failed ?? []);
      for (let s = 0; s < Math.max(seen.length, sent); s++) {
        const got = s < seen.length && seen[s] === 1;
        if (s >= sent) {
          if (got) unexpected++;
        } else if (skip.has(s)) {
          if (got) ambiguous++;
        } else if (!got) {
          lost++;
        }
      }
    };
    for (const c of clients) {
      if (settings.mode === "fanout") count(c.seen.fanout, sent.fanout, sent.failedFanout);
      else if (settings.mode === "targeted") count(c.seen.user, sent.user[c.user], sent.failedUser[c.user]);
    }
    return { histogram, lost, unexpected, ambiguous, lastMeasuredUs };
  }

  parentPort.on("message", async (m) => {
    let reply = {};
    if (m.type === "connect") reply = await connect();
    else if (m.type === "report") reply = report(m.sent);
    else if (m.type === "close") {
      closing = true;
      for (const c of clients) c.socket.close();
    }
    parentPort.postMessage({ ...reply, reply: m.id });
  });
}

if (isMainThread) {
  await main();
} else {
  worker();
}
