// The official Node socket.io-client (v4) against a running gateway, one scenario per run:
//   node socketio-client.mjs <scenario> '<settings JSON>'
// settings: url (http://127.0.0.1:port), site, apiKey, token, userRoom, timeoutMs, and per scenario
// more (see each one). Protocol with JUnit: lib.mjs. Checks that belong to the client side (an
// event arrived, with or without a callback, over which transport) fail the script here; what the
// gateway did (queues emptied, what the authorizer saw) is checked by JUnit.
import { io } from "socket.io-client";
import { check, describe, main, nextCommand, send, step, withTimeout } from "./lib.mjs";

const WAIT_MS = 10000;

/** One socket and everything it received, in order; events are taken by name, oldest first. */
class Client {
  constructor(settings, { namespace = "/" + settings.site, ...options } = {}) {
    this.records = [];
    this.waiters = [];
    this.socket = io(settings.url + namespace, { forceNew: true, reconnection: false, ...options });
    this.socket.onAny((event, ...args) => {
      const ack = args.length && typeof args[args.length - 1] === "function" ? args.pop() : null;
      this.record({ event, args, ack });
    });
    // the transport the Engine.IO session opened with (before any upgrade)
    this.socket.io.on("open", () => {
      this.openedWith = this.transport();
    });
    this.socket.on("connect", () => this.record({ event: "$connect", args: [this.socket.id] }));
    this.socket.on("disconnect", (reason) => this.record({ event: "$disconnect", args: [reason] }));
    this.socket.on("connect_error", (err) => this.record({ event: "$connect_error", args: [err] }));
  }

  record(entry) {
    entry.transport = this.transport();
    this.records.push(entry);
    this.waiters = this.waiters.filter((waiter) => !waiter());
  }

  /** The oldest record of that event not taken yet; waits for one. */
  next(event, ms = WAIT_MS) {
    return withTimeout(new Promise((resolve) => {
      const take = () => {
        const found = this.records.find((r) => !r.taken && r.event === event);
        if (found) {
          found.taken = true;
          resolve(found);
        }
        return !!found;
      };
      if (!take()) {
        this.waiters.push(take);
      }
    }), ms, "event '" + event + "'");
  }

  /** Resolves with the socket id on connect; rejects with the connect_error. */
  async connected() {
    const outcome = await Promise.race([this.next("$connect"), this.next("$connect_error")]);
    if (outcome.event === "$connect_error") {
      const err = outcome.args[0];
      throw new Error("connect_error: " + err.message + " " + JSON.stringify(err.data));
    }
    return outcome.args[0];
  }

  /** Events received and not taken by the scenario (what it did not expect). */
  untaken() {
    return this.records.filter((r) => !r.taken && !r.event.startsWith("$")).map((r) => ({
      event: r.event, args: describe(r.args), ack: !!r.ack,
    }));
  }

  transport() {
    const engine = this.socket.io.engine;
    return engine && engine.transport ? engine.transport.name : null;
  }

  close() {
    this.socket.disconnect();
  }
}

/** A step JUnit answers after checking the gateway (e.g. the queue is empty once the client acked). */
async function confirm(name, data) {
  step(name, data);
  return nextCommand("step '" + name + "'");
}

/** Connects over the given transports, receives a queued message, acks it. */
async function receiveAndAck(settings, options) {
  const client = new Client(settings, { auth: { token: settings.token }, ...options });
  const socketId = await client.connected();
  const transportAtConnect = client.transport();
  const sent = await send(settings, { rooms: [settings.userRoom], event: "update_store", args: ["user", { id: 1, age: 5 }] });
  const message = await client.next("update_store");
  check(message.ack, "a message to a user room comes with an ack callback");
  message.ack();
  await confirm("acked");
  client.close();
  return {
    socketId, openedWith: client.openedWith, transportAtConnect, transportAtReceipt: message.transport, transportAtEnd: client.transport(),
    send: sent.body, args: describe(message.args), untaken: client.untaken(),
  };
}

const scenarios = {
  /** WebSocket only, no polling at all. */
  websocket: (settings) => receiveAndAck(settings, { transports: ["websocket"] }),

  /** HTTP long-polling only; several messages, which may share one poll response. */
  async polling(settings) {
    const client = new Client(settings, { auth: { token: settings.token }, transports: ["polling"] });
    const socketId = await client.connected();
    const answers = [];
    for (let i = 1; i <= 3; i++) {
      answers.push((await send(settings, { rooms: [settings.userRoom], event: "tick", args: [i, "x".repeat(i)] })).body);
    }
    const received = [];
    for (let i = 1; i <= 3; i++) {
      const message = await client.next("tick");
      check(message.ack, "tick " + i + " comes with an ack callback");
      received.push({ args: describe(message.args), transport: message.transport });
      message.ack();
    }
    await confirm("acked");
    const transportAtEnd = client.transport();
    client.close();
    return { socketId, received, answers, transportAtEnd, untaken: client.untaken() };
  },

  /** The default: long-polling first, then the upgrade to WebSocket. */
  async upgrade(settings) {
    const client = new Client(settings, { auth: { token: settings.token } });
    const upgraded = withTimeout(new Promise((resolve) => client.socket.io.engine.once("upgrade", (t) => resolve(t.name))),
        WAIT_MS, "the upgrade to WebSocket");
    await client.connected();
    const upgradedTo = await upgraded;
    const result = { openedWith: client.openedWith, upgradedTo };
    await send(settings, { rooms: [settings.userRoom], event: "update_store", args: ["after upgrade"] });
    const message = await client.next("update_store");
    check(message.ack, "the message comes with an ack callback");
    message.ack();
    await confirm("acked");
    client.close();
    return { ...result, transportAtReceipt: message.transport, args: describe(message.args), untaken: client.untaken() };
  },

  /**
   * An auth payload of several keys (settings.auth, nested values too) and a query: the site's
   * authorizer (a test bean) records what it got and joins the device's room, where a message goes.
   */
  async authPayload(settings) {
    const client = new Client(settings, { auth: settings.auth, query: settings.query, transports: ["websocket"] });
    const socketId = await client.connected();
    step("connected", { socketId });
    await send(settings, { rooms: [settings.deviceRoom], event: "hello", args: [settings.auth.device] });
    const message = await client.next("hello");
    client.close();
    return { socketId, args: describe(message.args), ack: !!message.ack, untaken: client.untaken() };
  },

  /** Refused connects: each case's connect_error (message and data) and whether the client gave up. */
  async connectError(settings) {
    const results = [];
    for (const c of settings.cases) {
      const client = new Client(settings, { namespace: c.namespace, auth: c.auth, transports: c.transports });
      let refused;
      try {
        refused = await Promise.race([client.next("$connect_error"), client.next("$connect")]);
      } catch (e) {
        throw new Error("case " + c.name + ": " + e.message);
      }
      check(refused.event === "$connect_error", "case " + c.name + " is refused, not connected");
      const err = refused.args[0];
      results.push({
        name: c.name, message: err.message, data: describe(err.data), active: client.socket.active,
        connected: client.socket.connected,
      });
      client.close();
    }
    return { cases: results };
  },

  /**
   * Callbacks both ways: a user-room message has one and a group-room message has none; the
   * client's own emits get the gateway's answer (no handler on the demo site: unknown_event; a
   * reserved name: invalid), with both callback styles.
   */
  async callbacks(settings) {
    const client = new Client(settings, { auth: { token: settings.token }, transports: ["websocket"] });
    await client.connected();
    await send(settings, { rooms: [settings.groupRoom], event: "group_news", args: ["to the group"] });
    const group = await client.next("group_news");
    await send(settings, { rooms: [settings.userRoom], event: "user_news", args: ["to the user"] });
    const user = await client.next("user_news");
    check(user.ack, "the user-room message has a callback");
    user.ack();
    await confirm("acked");

    const unknown = await client.socket.timeout(WAIT_MS).emitWithAck("hello", { from: "node" });
    const classic = await withTimeout(new Promise((resolve) => client.socket.emit("hello", 1, 2, (...answer) => resolve(answer))),
        WAIT_MS, "the answer to a classic emit with a callback");
    const reserved = await client.socket.timeout(WAIT_MS).emitWithAck("batch", []);
    client.close();
    return {
      groupHasCallback: !!group.ack, userHasCallback: !!user.ack,
      emitWithAck: describe(unknown), classicCallback: describe(classic), reservedName: describe(reserved),
      untaken: client.untaken(),
    };
  },

  /** Messages sent while the user is offline arrive at the next connect as one batch with one callback. */
  async batch(settings) {
    const client = new Client(settings, { auth: { token: settings.token }, transports: ["websocket"] });
    const firstId = await client.connected();
    client.socket.disconnect();
    await client.next("$disconnect");
    const answers = [];
    for (const [event, args] of [["created", [{ id: 1 }]], ["updated", [{ id: 1, name: "b" }]], ["deleted", [1, "gone"]]]) {
      answers.push((await send(settings, { rooms: [settings.userRoom], event, args })).body);
    }
    client.socket.connect();
    const secondId = await client.connected();
    const batch = await client.next("batch");
    check(batch.ack, "the batch comes with a callback");
    check(batch.args.length === 1 && Array.isArray(batch.args[0]), "the batch is one array of [event, ...args]");
    batch.ack();
    await confirm("acked");
    client.close();
    return { firstId, secondId, answers, events: describe(batch.args[0]), untaken: client.untaken() };
  },

  /** resync=true messages acked out of order: the queue is cleared and the client gets resync. */
  async resyncOutOfOrder(settings) {
    const client = new Client(settings, { auth: { token: settings.token }, transports: ["websocket"] });
    await client.connected();
    await send(settings, { rooms: [settings.userRoom], event: "store", args: [1] }, { resync: true });
    await send(settings, { rooms: [settings.userRoom], event: "store", args: [2] }, { resync: true });
    const first = await client.next("store");
    const second = await client.next("store");
    check(first.ack && second.ack, "both come with callbacks");
    second.ack();
    const resync = await client.next("resync");
    await confirm("resynced");
    client.close();
    return {
      first: describe(first.args), second: describe(second.args), resyncArgs: describe(resync.args),
      untaken: client.untaken(),
    };
  },

  /**
   * More unacked messages than pushbridge.max-pending-per-user (settings.maxPending): the queue is
   * cleared, the newest message kept, resync now, and resync again before the next connect's batch.
   */
  async resyncOverflow(settings) {
    const client = new Client(settings, { auth: { token: settings.token }, transports: ["websocket"] });
    await client.connected();
    for (let i = 1; i <= settings.maxPending; i++) {
      await send(settings, { rooms: [settings.userRoom], event: "fill", args: [i] });
      await client.next("fill");
    }
    await send(settings, { rooms: [settings.userRoom], event: "overflow", args: [settings.maxPending + 1] });
    const resyncNow = await client.next("resync");
    const overflow = await client.next("overflow");
    check(overflow.ack, "the message that overflowed the queue is queued (has a callback)");

    client.socket.disconnect();
    await client.next("$disconnect");
    const mark = client.records.length;
    client.socket.connect();
    await client.connected();
    const resyncAgain = await client.next("resync");
    const batch = await client.next("batch");
    check(batch.ack, "the batch comes with a callback");
    const order = client.records.slice(mark).filter((r) => !r.event.startsWith("$")).map((r) => r.event);
    batch.ack();
    await confirm("acked");
    client.close();
    return {
      resyncNow: describe(resyncNow.args), overflowArgs: describe(overflow.args), resyncAgain: describe(resyncAgain.args),
      afterReconnect: order, batch: describe(batch.args[0]), untaken: client.untaken(),
    };
  },

  /**
   * Binary from the gateway (JUnit sends byte[] args in-process with PushTemplate after "ready"),
   * over settings.transports, live or (settings.offline) in the batch of the next connect.
   */
  async binary(settings) {
    const client = new Client(settings, { auth: { token: settings.token }, transports: settings.transports });
    await client.connected();
    let message;
    let events = null;
    if (settings.offline) {
      client.socket.disconnect();
      await client.next("$disconnect");
      await confirm("offline");
      client.socket.connect();
      await client.connected();
      const batch = await client.next("batch");
      events = batch.args[0];
      check(batch.ack, "the batch comes with a callback");
      message = { event: events[0][0], args: events[0].slice(1), ack: batch.ack, transport: batch.transport };
    } else {
      await confirm("ready");
      message = await client.next("blob");
    }
    check(message.ack, "the binary message has a callback");
    message.ack();
    await confirm("acked");
    client.close();
    return {
      event: message.event || "blob", args: describe(message.args), transport: message.transport,
      batchSize: events ? events.length : null, untaken: client.untaken(),
    };
  },

  /**
   * Binary from the client: docs/client-events.md says such events are not handed to handlers
   * (dropped). The connection stays up: the next plain event is answered, a message still arrives.
   */
  async binaryFromClient(settings) {
    const client = new Client(settings, { auth: { token: settings.token }, transports: ["websocket"] });
    const socketId = await client.connected();
    client.socket.emit("upload", Buffer.from([4, 0, 1, 2, 255]), { name: "file.bin" });
    // with a callback too: reported (answered or not within 1 s), for the docs; not checked
    const withCallback = new Promise((resolve) => client.socket.timeout(1000).emit("upload", Buffer.from([1]),
        (err, ...answer) => resolve(err ? { answered: false, error: err.message } : { answered: true, answer: describe(answer) })));
    const answer = await client.socket.timeout(WAIT_MS).emitWithAck("hello", "after binary");
    await send(settings, { rooms: [settings.userRoom], event: "update_store", args: ["still here"] });
    const message = await client.next("update_store");
    message.ack();
    await confirm("acked");
    const result = {
      socketId, connected: client.socket.connected, answerAfter: describe(answer), args: describe(message.args),
      binaryWithCallback: await withCallback,
    };
    client.close();
    return { ...result, untaken: client.untaken() };
  },

  /**
   * The gateway goes away and comes back (JUnit restarts it on the same port; queues are in Redis):
   * the client reconnects by itself and gets the message it had not acked, as a batch.
   */
  async restart(settings) {
    const client = new Client(settings, {
      auth: { token: settings.token }, reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 500,
      randomizationFactor: 0,
    });
    const attempts = [];
    client.socket.io.on("reconnect_attempt", (n) => attempts.push(n));
    const firstId = await client.connected();
    await send(settings, { rooms: [settings.userRoom], event: "update_store", args: ["before restart"] });
    const unacked = await client.next("update_store");
    check(unacked.ack, "the message has a callback (left unanswered on purpose)");
    step("received", { socketId: firstId });
    const gone = await client.next("$disconnect", 20000);
    step("disconnected", { reason: gone.args[0] });
    // failed attempts while the gateway is down are connect_errors too: wait for the connect itself
    const secondId = (await client.next("$connect", 20000)).args[0];
    const batch = await client.next("batch");
    check(batch.ack, "the batch comes with a callback");
    batch.ack();
    await confirm("acked");
    client.close();
    return {
      firstId, secondId, disconnectReason: gone.args[0], reconnectAttempts: attempts.length,
      active: client.socket.active, events: describe(batch.args[0]), untaken: client.untaken(),
    };
  },
};

main(scenarios);
