// ws_broadcast: the peer that tests/bench/stream_fanout compares
// normbase-server with — a minimal Node.js broadcast server built on the
// `ws` package, answering the same two requests the generator makes:
//
//   GET  /api/v1/stream (WebSocket upgrade)  -> sends a hello, then every event
//   POST /api/v1/proposals/{id}/comments {"text": ...}
//        -> broadcasts one JSON event message (shaped like Normbase's
//           comment.added) to every client, then answers 201
//
// No storage, no authentication (the Authorization header is ignored), no
// queue bound: about the least work a Node.js fan-out server can do per
// event, not a functional twin of Normbase (which commits each comment
// durably before publishing it).
//
// usage: node ws_broadcast.js [--listen 127.0.0.1:0] [--ready-file FILE]
// Writes http://HOST:PORT to FILE once listening; stops on SIGTERM/SIGINT.
'use strict';

const fs = require('fs');
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const kMaxBody = 1 << 20;  // bytes of a POST body
const kMaxClientMessage = 4096;  // bytes of a client message, as Normbase's default

function parseArgs(argv) {
  const opts = { listen: '127.0.0.1:0', readyFile: '' };
  for (let i = 2; i < argv.length; i += 2) {
    if (argv[i] === '--listen') opts.listen = argv[i + 1];
    else if (argv[i] === '--ready-file') opts.readyFile = argv[i + 1];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const colon = opts.listen.lastIndexOf(':');
  return { host: opts.listen.slice(0, colon), port: Number(opts.listen.slice(colon + 1)), readyFile: opts.readyFile };
}

const opts = parseArgs(process.argv);
let seq = 0;
let nextCommentId = 0;

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function proposalSummary(id, now) {
  return {
    agreement_id: 'bench-agreement', author: 1, author_name: 'admin', base_revision: 0, created_at: now, id,
    kind: 'add',
    review: {
      agreement_revision: 0, approvals: 0, approved: false, by_group: [], can_merge: false, conflicted: false,
      distinct_groups: 0, missing: ['needs 2 more approvals from 2 different stakeholder groups'],
      request_changes: 0, state: 'open',
    },
    revision: 1, state: 'open', status: 'open', title: 'Bench', updated_at: now,
  };
}

const commentRoute = /^\/api\/v1\/proposals\/(\d+)\/comments$/;

const server = http.createServer((req, res) => {
  const m = req.method === 'POST' ? commentRoute.exec(req.url) : null;
  if (!m) return answer(res, 404, { title: 'not found' });
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > kMaxBody) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      return answer(res, 400, { title: 'body is not JSON' });
    }
    if (typeof body.text !== 'string' || body.text === '') return answer(res, 400, { title: 'text: is required' });
    const now = Date.now();
    const comment = {
      at: now, author: 1, author_name: 'admin', element: null, field: null, id: ++nextCommentId,
      resolved: false, resolved_by: 0, revision: 1, text: body.text,
    };
    // The same fields as Normbase's comment.added, so both send frames of about the same size.
    const event = {
      actor: 1, kind: 'event',
      payload: { comment, proposal: proposalSummary(Number(m[1]), now) },
      seq: ++seq, subjects: { agreement: 'bench-agreement', proposal: m[1] }, time: now, type: 'comment.added',
    };
    // Serialise once; ws frames it per client.
    const text = JSON.stringify(event);
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(text);
    }
    answer(res, 201, comment);
  });
});

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: kMaxClientMessage });

server.on('upgrade', (req, socket, head) => {
  if (req.url.split('?')[0] !== '/api/v1/stream') {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => {});
    ws.send(JSON.stringify({ kind: 'hello', seq, since: null, topics: ['all'], replay_window_oldest: 0 }));
  });
});

server.listen(opts.port, opts.host, 4096, () => {
  const url = `http://${opts.host}:${server.address().port}`;
  console.log(`ws_broadcast listening on ${url}`);
  if (opts.readyFile) {
    fs.writeFileSync(opts.readyFile + '.tmp', url + '\n');
    fs.renameSync(opts.readyFile + '.tmp', opts.readyFile);  // readers never see half a line
  }
});

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
