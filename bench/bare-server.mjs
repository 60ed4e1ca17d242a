// The baseline for the hot read: node:http answering the same JSON from memory,
// with no routing, validation, logging or metrics. It is the ceiling a Node.js
// HTTP server reaches on this machine; the API is measured against it.
import http from 'node:http';

const body = Buffer.from(process.env.BODY ?? '{"status":"ok"}');
const headers = { 'content-type': 'application/json', 'content-length': body.length };

const server = http.createServer((req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
