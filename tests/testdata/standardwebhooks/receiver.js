// A business's webhook receiver built on the standardwebhooks library:
// every POST is verified with the whsec_ secret in WEBHOOK_SECRET and
// answered 204 when the signature holds, 400 otherwise. Each request is
// reported on stdout as one JSON line: {"id", "ok", "error"}; the first
// line says where it listens: {"port"}.
const http = require("http");
const { Webhook } = require("standardwebhooks");

const wh = new Webhook(process.env.WEBHOOK_SECRET);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    let line;
    try {
      const ev = wh.verify(body, req.headers);
      line = { id: req.headers["webhook-id"], ok: true, kind: ev.kind, user_id: ev.user_id };
      res.statusCode = 204;
    } catch (e) {
      line = { id: req.headers["webhook-id"] || "", ok: false, error: String(e && e.message) };
      res.statusCode = 400;
    }
    process.stdout.write(JSON.stringify(line) + "\n");
    res.end();
  });
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + "\n");
});
