// The chat example's page: io() connects to the gateway node that served it (site "chat" on "/").
const socket = io();
const log = document.getElementById("log");
const status = document.getElementById("status");

function line(text, cls) {
  const li = document.createElement("li");
  li.textContent = text;
  if (cls) li.className = cls;
  log.prepend(li);
}

socket.on("connect", () => { status.textContent = "connected as " + socket.id; });
socket.on("disconnect", (reason) => { status.textContent = "disconnected (" + reason + ")"; });
socket.on("connect_error", (err) => { status.textContent = "cannot connect: " + err.message; });
socket.on("announcement", (text) => line(text, "announcement"));
socket.on("message", (m) => line(m.name + ": " + m.text));

document.getElementById("form").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = document.getElementById("text");
  const name = document.getElementById("name").value || undefined;
  if (!text.value) return;
  const sent = text.value;
  // the application node answers the callback: {ok: true}, or {error: {code, message}}
  socket.timeout(10000).emit("message", { name, text: sent }, (err, answer) => {
    if (err || answer.error) {
      line("not sent: " + (err ? err.message : answer.error.message), "error");
    } else {
      line("me: " + sent, "mine");
    }
  });
  text.value = "";
});
