// The demo page of the sample gateway. Plain JavaScript; every text taken from the server, the
// user or a message is rendered with textContent, never as HTML.
(function () {
  "use strict";

  // Mirrors pushbridge.sites.demo.tokens in application.yml (demo tokens: public, never reuse them).
  var TOKENS = {
    alice: ["user_alice", "staff"],
    bob: ["user_bob", "staff"],
    carol: ["user_carol"]
  };
  // Not in the table: the server refuses it, and the page shows the connect_error.
  var UNKNOWN_TOKEN = "mallory";
  var SITE = "demo";

  var socket = null;

  function $(id) {
    return document.getElementById(id);
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function json(value) {
    try {
      return JSON.stringify(value, null, 2);
    } catch (e) {
      return String(value);
    }
  }

  function time() {
    return new Date().toLocaleTimeString();
  }

  // ---- tokens and rooms -------------------------------------------------------------------------

  function renderTokens() {
    var select = $("user");
    var body = $("rooms-table").querySelector("tbody");
    Object.keys(TOKENS).forEach(function (token) {
      var option = el("option", null, token);
      option.value = token;
      select.appendChild(option);

      var row = el("tr");
      row.dataset.token = token;
      row.appendChild(el("td", null, token));
      row.appendChild(el("td", null, TOKENS[token].join(", ")));
      body.appendChild(row);
    });
    var unknown = el("option", null, UNKNOWN_TOKEN + " (unknown token)");
    unknown.value = UNKNOWN_TOKEN;
    select.appendChild(unknown);
  }

  function showMyRooms(token) {
    $("my-rooms").textContent = !token ? "-" : TOKENS[token] ? TOKENS[token].join(", ") : "none: not in the table";
    var rows = $("rooms-table").querySelectorAll("tbody tr");
    Array.prototype.forEach.call(rows, function (row) {
      row.classList.toggle("current", row.dataset.token === token);
    });
  }

  // ---- connection -------------------------------------------------------------------------------

  function setState(state, detail) {
    var badge = $("state");
    badge.textContent = detail ? state + " (" + detail + ")" : state;
    badge.className = "badge state-" + state;
    $("socket-id").textContent = socket && socket.connected ? socket.id : "-";
    $("disconnect").disabled = !socket;
  }

  function showConnectError(err) {
    var data = err && err.data ? err.data : {};
    $("connect-error-message").textContent = data.message || (err && err.message) || "(none)";
    $("connect-error-code").textContent = data.code || "(none: a transport error, see the browser console)";
    $("connect-error").hidden = false;
  }

  function connect(token) {
    disconnect();
    $("connect-error").hidden = true;
    showMyRooms(token);
    socket = io("/" + SITE, { auth: { token: token } });
    setState("connecting");

    socket.on("connect", function () {
      $("connect-error").hidden = true;
      setState("connected");
    });
    socket.on("disconnect", function (reason) {
      setState("disconnected", reason);
    });
    socket.on("connect_error", function (err) {
      // refused by the server (err.data has message and code), or the transport failed
      setState(socket && socket.active ? "reconnecting" : "refused");
      showConnectError(err);
    });
    socket.io.on("reconnect_attempt", function (attempt) {
      setState("reconnecting", "attempt " + attempt);
    });
    // every event, whatever its name; a trailing function is the ack callback
    socket.onAny(function () {
      var args = Array.prototype.slice.call(arguments);
      var event = args.shift();
      var ack = args.length && typeof args[args.length - 1] === "function" ? args.pop() : null;
      received(event, args, ack);
    });
  }

  function disconnect() {
    if (socket) {
      socket.offAny();
      socket.off();
      socket.disconnect();
      socket = null;
    }
    setState("disconnected");
  }

  // ---- received events --------------------------------------------------------------------------

  function received(event, args, ack) {
    var item = el("li", "event");
    var head = el("div", "event-head");
    head.appendChild(el("span", "time", time()));
    head.appendChild(el("span", "name", event));
    head.appendChild(el("span", ack ? "badge ack-yes" : "badge ack-no", ack ? "with ack callback" : "no ack callback"));
    item.appendChild(head);

    if (event === "batch") {
      item.classList.add("batch");
      var events = Array.isArray(args[0]) ? args[0] : [];
      item.appendChild(el("p", "hint", "A batch of " + events.length
          + " queued message(s), sent on (re)connect; one callback acks them all."));
      var list = el("ol", "batch-events");
      events.forEach(function (entry) {
        var li = el("li");
        var parts = Array.isArray(entry) ? entry : [entry];
        li.appendChild(el("span", "name", parts[0]));
        li.appendChild(el("pre", null, json(parts.slice(1))));
        list.appendChild(li);
      });
      item.appendChild(list);
    } else if (event === "resync") {
      item.classList.add("resync");
      item.appendChild(el("p", null, "resync: the server cleared this user's queue (an ack came out of order, or the queue "
          + "overflowed). A real client now reloads its data."));
      if (args.length) {
        item.appendChild(el("pre", null, json(args)));
      }
    } else {
      item.appendChild(el("pre", null, json(args)));
    }

    if (ack) {
      var button = el("button", "ack", "ack");
      button.type = "button";
      var done = function () {
        ack();
        button.disabled = true;
        button.textContent = "acked";
      };
      button.addEventListener("click", done);
      item.appendChild(button);
      if ($("auto-ack").checked) {
        done();
      }
    }

    var list = $("events");
    list.insertBefore(item, list.firstChild);
  }

  // ---- send -------------------------------------------------------------------------------------

  function send(form) {
    var rooms = form.rooms.value.split(",").map(function (r) {
      return r.trim();
    }).filter(function (r) {
      return r.length > 0;
    });
    var args;
    try {
      args = JSON.parse(form.args.value || "[]");
    } catch (e) {
      showAnswer("not sent", "args is not valid JSON: " + e.message, null);
      return;
    }
    if (!Array.isArray(args)) {
      args = [args];
    }
    var body = JSON.stringify({ rooms: rooms, event: form.event.value, args: args });
    var query = new URLSearchParams({ site: SITE, apiKey: form.apiKey.value });
    if (form.resync.checked) {
      query.set("resync", "true");
    }
    var path = "/send?" + query.toString();
    var curl = "curl -X POST '" + location.origin + path + "' \\\n  -H 'Content-Type: application/json' \\\n  -d '"
        + body.replace(/'/g, "'\\''") + "'";

    fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: body })
      .then(function (response) {
        return response.text().then(function (text) {
          var shown = text;
          try {
            shown = json(JSON.parse(text));
          } catch (e) {
            // not JSON: show it as it came
          }
          showAnswer(response.status + " " + response.statusText, shown, curl, response.ok);
        });
      })
      .catch(function (e) {
        showAnswer("failed", String(e), curl, false);
      });
  }

  function showAnswer(status, body, curl, ok) {
    var badge = $("send-status");
    badge.textContent = status;
    badge.className = "badge " + (ok ? "ok" : "bad");
    $("send-body").textContent = body;
    $("send-curl").textContent = curl || "";
    $("send-result").hidden = false;
  }

  // ---- wiring -----------------------------------------------------------------------------------

  renderTokens();
  setState("disconnected");

  $("connect-form").addEventListener("submit", function (e) {
    e.preventDefault();
    connect($("user").value);
  });
  $("disconnect").addEventListener("click", function () {
    disconnect();
  });
  $("user").addEventListener("change", function () {
    var rooms = TOKENS[$("user").value];
    if (rooms) {
      $("rooms").value = rooms[0];
    }
  });
  $("send-form").addEventListener("submit", function (e) {
    e.preventDefault();
    send(e.target);
  });
  $("clear").addEventListener("click", function () {
    var list = $("events");
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
  });
})();
