// The reference of the load benchmark: a plain Node socket.io v4 server serving the same workload
// as PushBridge, with @socket.io/redis-adapter when given a Redis URL (the in-memory adapter
// otherwise). Started by io.pushbridge.samples.bench.LoadBenchmark, one process per node:
//
//   node --expose-gc reference-server.mjs --port 8080 [--host 127.0.0.1] [--redis redis://127.0.0.1:6379]
//        [--site bench] [--api-key KEY] [--user-room-prefix user_] [--fanout-room all]
//
// - Socket.IO on the site's namespace (/<site>): a client connects with auth {token: "<user>"} (or
//   ?token=), the token being a user number; it joins its user room (<prefix><user>) and the fan-out
//   room, as PushBridge's bench authorizer makes it do.
// - POST /send?site=<site> with the API key (X-Api-Key, Authorization: Bearer or ?apiKey=) and the
//   body of PushBridge's send API ({"rooms": [...], "event": "...", "args": [...]}, docs/send-api.md):
//   user rooms get an emit with an ack callback (the client acks it, as PushBridge's user-room
//   messages are acked), the other rooms a plain emit, each socket once. Answers like PushBridge:
//   {"id", "rooms", "queued"}, or {"error", "message"} with 400, 401, 404, 405, 413.
// - GET /stats: {pid, connections, memory} with process.memoryUsage() read after global.gc()
//   (run node with --expose-gc).
//
// Production settings: no debug logging, WebSocket compression off (PushBridge's default), ws with
// bufferutil (the socket.io performance guide's advice). One line {"step": "listening", ...} on
// stdout once it serves; errors on stderr.
import { createServer } from "node:http";
import { Server } from "socket.io";

function options(argv) {
  const out = {
    port: 0,
    host: "127.0.0.1",
    redis: "",
    site: "bench",
    "api-key": "bench-key",
    "user-room-prefix": "user_",
    "fanout-room": "all",
    "ack-timeout-ms": 30000,
  };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, "");
    if (!(name in out) || i + 1 >= argv.length) {
      throw new Error("unknown option or missing value: " + argv[i]);
    }
    out[name] = typeof out[name] === "number" ? Number(argv[i + 1]) : argv[i + 1];
  }
  return out;
}

const opts = options(process.argv.slice(2));
const prefix = opts["user-room-prefix"];
const maxBody = 1_000_000;

function answer(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

function error(res, status, code, message) {
  answer(res, status, { error: code, message });
}

const httpServer = createServer();
// Node closes an idle keep-alive connection after 5 s by default, racing a sender that reuses it
// (ECONNRESET); servers behind a load balancer raise it above the balancer's idle timeout
httpServer.keepAliveTimeout = 65000;
httpServer.headersTimeout = 66000;
const io = new Server(httpServer, {
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  // PushBridge's defaults (pushbridge.ping-interval, ping-timeout, max-payload, connect-timeout)
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1_000_000,
  connectTimeout: 45000,
});

let pubClient;
let subClient;
if (opts.redis) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  pubClient = createClient({ url: opts.redis });
  subClient = pubClient.duplicate();
  for (const client of [pubClient, subClient]) {
    client.on("error", (err) => console.error("redis:", err.message));
  }
  await Promise.all([pubClient.connect(), subClient.connect()]);
  io.adapter(createAdapter(pubClient, subClient));
}

const site = io.of("/" + opts.site);
site.use((socket, next) => {
  const token = socket.handshake.auth?.token ?? socket.handshake.query.token;
  if (typeof token !== "string" || !/^[0-9]{1,9}$/.test(token)) {
    const err = new Error("unauthorized");
    err.data = { message: "unauthorized", code: "unauthorized" };
    return next(err);
  }
  socket.data.user = token;
  next();
});
site.on("connection", (socket) => {
  socket.join([prefix + socket.data.user, opts["fanout-room"]]);
});

let ids = 0;
let acks = 0;
let ackTimeouts = 0;

function send(res, body) {
  let message;
  try {
    message = JSON.parse(body);
  } catch (e) {
    return error(res, 400, "invalid_request", "the body is not JSON");
  }
  const errors = [];
  const rooms = message?.rooms;
  if (!Array.isArray(rooms) || rooms.length === 0 || !rooms.every((r) => typeof r === "string" && r.length > 0)) {
    errors.push("rooms must be a non-empty list of strings");
  }
  if (typeof message?.event !== "string" || message.event.length === 0) {
    errors.push("event is required");
  }
  const args = message?.args ?? [];
  if (!Array.isArray(args)) {
    errors.push("args must be an array");
  }
  if (errors.length) {
    return answer(res, 400, { error: "invalid_request", message: errors.join("; "), errors });
  }
  const userRooms = rooms.filter((r) => r.startsWith(prefix) && r.length > prefix.length);
  const otherRooms = rooms.filter((r) => !userRooms.includes(r));
  if (userRooms.length) {
    site.to(userRooms).timeout(opts["ack-timeout-ms"]).emit(message.event, ...args, (err, responses) => {
      if (err) {
        ackTimeouts++;
      } else {
        acks += responses.length;
      }
    });
  }
  if (otherRooms.length) {
    // a socket in a user room of this message got it with the callback already
    site.to(otherRooms).except(userRooms).emit(message.event, ...args);
  }
  answer(res, 200, { id: String(++ids), rooms, queued: userRooms.length });
}

function stats(res) {
  if (typeof global.gc === "function") {
    global.gc();
    global.gc();
  }
  answer(res, 200, {
    pid: process.pid,
    connections: site.sockets.size,
    engineClients: io.engine.clientsCount,
    acks,
    ackTimeouts,
    gc: typeof global.gc === "function",
    memory: process.memoryUsage(),
  });
}

httpServer.on("request", (req, res) => {
  // socket.io answers its own path (/socket.io/) itself
  if (req.url.startsWith("/socket.io/")) {
    return;
  }
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/stats" && req.method === "GET") {
    return stats(res);
  }
  if (url.pathname !== "/send") {
    return error(res, 404, "not_found", "no such path");
  }
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    return error(res, 405, "method_not_allowed", "use POST");
  }
  if (url.searchParams.get("site") !== opts.site) {
    return error(res, 404, "unknown_site", "no such site");
  }
  const auth = req.headers.authorization;
  const key = req.headers["x-api-key"] ?? (auth?.startsWith("Bearer ") ? auth.slice(7) : url.searchParams.get("apiKey"));
  if (key !== opts["api-key"]) {
    return error(res, 401, "unauthorized", "missing or wrong API key");
  }
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size <= maxBody) {
      chunks.push(chunk);
    }
  });
  req.on("end", () => {
    if (size > maxBody) {
      return error(res, 413, "too_large", "the body is larger than " + maxBody + " bytes");
    }
    send(res, Buffer.concat(chunks).toString("utf8"));
  });
});

function stop() {
  io.close();
  Promise.allSettled([pubClient?.quit(), subClient?.quit()]).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

httpServer.listen(opts.port, opts.host, () => {
  const { port } = httpServer.address();
  process.stdout.write(JSON.stringify({ step: "listening", port, pid: process.pid, redis: Boolean(opts.redis) }) + "\n");
});
