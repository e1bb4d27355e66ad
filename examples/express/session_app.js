// The story's stack: an Express app whose sessions live in Redis behind Sentinel, drilled by
// failover-drill. Node.js with Debian's `node-express` and `node-redis` (run with
// NODE_PATH=/usr/share/nodejs).
//
// Debian packages neither `express-session`, `connect-redis` nor `redis-sentinel`, so the app
// carries its own small versions of them:
// - a cookie session over Redis: an `sid` cookie names `sess:<sid>`, a JSON document;
// - a Sentinel resolver that behaves as the `redis-sentinel` module did: ask the sentinels once
//   for the master, connect to it, keep that connection; on an error, drop it, and the next call
//   asks the sentinels again.
//
// STORE_ON_SWITCH chooses what a store error during a switch does:
// - `error` (as in the story): it goes to Express's error handler, which answers 500; a virtual
//   user's retry plays the page reload;
// - `hold`: the request waits for the new connection (asks the sentinels again, with backoff) for
//   up to 8 s before it gives up, as the story's app behaved once handled.
//
// Routes, in the shape of failover-drill's default contract:
//   POST /login          {"user": "..."}   starts a session
//   POST /session/items  {"value": "..."}  appends to it
//   GET  /session                          {"user": "...", "items": [...]}
//   POST /logout                           deletes the session from Redis (express-session's
//                                          `req.session.destroy`)
//   GET  /healthz

'use strict';

const crypto = require('crypto');
const express = require('express');
const { createClient } = require('redis');

const MODE = process.env.STORE_ON_SWITCH || 'error';
if (MODE !== 'error' && MODE !== 'hold') {
  console.error(`STORE_ON_SWITCH must be "error" or "hold", not "${MODE}"`);
  process.exit(2);
}
const HOLD_DEADLINE_MS = 8000;
// A command on a frozen master never answers: past this it counts as a store error.
const COMMAND_TIMEOUT_MS = 1000;
// How long an unused session lives; a drill that checks expiry sets it short.
const SESSION_TTL_S = Number(process.env.FAILOVER_DRILL_SESSION_TTL || 3600);

const password = process.env.FAILOVER_DRILL_REDIS_PASSWORD || undefined;
const masterName = process.env.FAILOVER_DRILL_MASTER_NAME;
const sentinels = (process.env.FAILOVER_DRILL_SENTINELS || '').split(',').map((addr) => {
  const at = addr.lastIndexOf(':');
  return { host: addr.slice(0, at), port: Number(addr.slice(at + 1)) };
});

function client(host, port) {
  const c = createClient({
    socket: { host, port, connectTimeout: 500, reconnectStrategy: false },
    password,
  });
  // Errors reach the caller through the command that failed; the event only marks the client.
  c.on('error', () => {});
  return c;
}

function withTimeout(promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('the store did not answer in time')), COMMAND_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The master's address, from the first sentinel that names one.
async function askSentinels() {
  for (const s of sentinels) {
    const c = client(s.host, s.port);
    try {
      await withTimeout(c.connect());
      const addr = await withTimeout(c.sendCommand(['SENTINEL', 'get-master-addr-by-name', masterName]));
      if (addr) return { host: addr[0], port: Number(addr[1]) };
    } catch (e) {
      // The next sentinel may answer.
    } finally {
      c.disconnect().catch(() => {});
    }
  }
  throw new Error('no sentinel named a master');
}

// The kept connection to the master, or the one being made.
let master = null;

function connection() {
  if (!master) {
    const made = (async () => {
      const addr = await askSentinels();
      const c = client(addr.host, addr.port);
      await withTimeout(c.connect());
      return c;
    })();
    master = made;
    made.catch(() => drop(made));
  }
  return master;
}

// Forgets `used` if it is still the kept connection, so the next call asks the sentinels again.
function drop(used) {
  if (master !== used) return;
  master = null;
  used.then((c) => c.disconnect().catch(() => {}), () => {});
}

// One store call on the kept connection; an error drops it.
async function once(call) {
  const used = connection();
  try {
    return await withTimeout(used.then(call));
  } catch (e) {
    drop(used);
    throw e;
  }
}

// `error` mode: once. `hold` mode: again and again, with backoff, until the deadline.
async function store(call) {
  if (MODE === 'error') return once(call);
  const deadline = Date.now() + HOLD_DEADLINE_MS;
  let pause = 50;
  for (;;) {
    try {
      return await once(call);
    } catch (e) {
      if (Date.now() + pause > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 500);
    }
  }
}

function sessionId(req) {
  for (const part of (req.headers.cookie || '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name === 'sid') return value;
  }
  return null;
}

async function load(sid) {
  if (!sid) return null;
  const raw = await store((c) => c.get(`sess:${sid}`));
  return raw ? JSON.parse(raw) : null;
}

function save(sid, session) {
  return store((c) => c.set(`sess:${sid}`, JSON.stringify(session), { EX: SESSION_TTL_S }));
}

const app = express();
app.use(express.json());

app.get('/healthz', (req, res) => res.json('ok'));

app.post('/login', async (req, res, next) => {
  try {
    const sid = crypto.randomBytes(16).toString('hex');
    await save(sid, { user: req.body.user, items: [] });
    res.cookie('sid', sid, { path: '/', httpOnly: true }).json({});
  } catch (e) {
    next(e);
  }
});

app.post('/session/items', async (req, res, next) => {
  try {
    const sid = sessionId(req);
    const session = await load(sid);
    if (!session) return res.status(401).json({ error: 'log in again' });
    session.items.push(req.body.value);
    await save(sid, session);
    res.json({ items: session.items.length });
  } catch (e) {
    next(e);
  }
});

app.get('/session', async (req, res, next) => {
  try {
    const session = await load(sessionId(req));
    if (!session) return res.status(401).json({ error: 'log in again' });
    res.json(session);
  } catch (e) {
    next(e);
  }
});

app.post('/logout', async (req, res, next) => {
  try {
    const sid = sessionId(req);
    // Ended on the server, as `req.session.destroy` does, not only by clearing the cookie: the
    // old cookie must not open the session again.
    if (sid) await store((c) => c.del(`sess:${sid}`));
    res.clearCookie('sid', { path: '/' }).json({});
  } catch (e) {
    next(e);
  }
});

// Express's error handler: where the story's store error during the switch landed.
// eslint-disable-next-line no-unused-vars
app.use((err, req, res, next) => {
  res.status(500).json({ error: `session store: ${err.message}` });
});

const listen = process.env.FAILOVER_DRILL_LISTEN || '127.0.0.1:8080';
const at = listen.lastIndexOf(':');
app.listen(Number(listen.slice(at + 1)), listen.slice(0, at));
