// Drives static/supportline/socket.js against a simulated server on a fake
// clock, so a minute of the page's resend and reconnect logic runs in
// milliseconds. Loaded in Chromium by tests/e2e/test_supportline_socket.py.

export class FakeClock {
  constructor() {
    this.t = 0;
    this.seq = 0;
    this.timers = new Map();
    this.maxTimers = 0;
  }

  now() { return this.t; }

  setTimeout(fn, ms) {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, Number(ms) || 0), fn });
    this.maxTimers = Math.max(this.maxTimers, this.timers.size);
    return id;
  }

  clearTimeout(id) { this.timers.delete(id); }

  advance(ms) {
    const end = this.t + ms;
    let steps = 0;
    for (;;) {
      let best = null;
      for (const [id, timer] of this.timers) {
        if (timer.at <= end && (!best || timer.at < best.timer.at)) best = { id, timer };
      }
      if (!best) break;
      if (++steps > 200000) throw new Error("more than 200000 timer callbacks: a busy loop");
      this.timers.delete(best.id);
      this.t = best.timer.at;
      best.timer.fn();
    }
    this.t = end;
  }
}

// A scripted server. `behaviour(frame, conn)` answers each client frame.
function makeServer(clock, behaviour) {
  const server = {
    frames: [],          // {t, frame} for every frame the page sent
    connections: 0,
    connectTimes: [],
    stored: [],          // client_ids stored, in order
    refusedAt: new Map(), // client_id -> time of the last refusal
    retryAfter: new Map(), // client_id -> retry_after_ms given with that refusal
    early: 0,            // resends sooner than the server's retry_after_ms
  };

  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      server.connections += 1;
      server.connectTimes.push(clock.now());
      this.conn = { ws: this, index: server.connections, frames: 0 };
      clock.setTimeout(() => {
        if (this.readyState !== 0) return;
        this.readyState = 1;
        if (this.onopen) this.onopen({});
        if (behaviour.onOpen) behaviour.onOpen(this.conn, server);
      }, 5);
    }

    send(data) {
      if (this.readyState !== 1) throw new Error("send on a socket that is not open");
      const frame = JSON.parse(data);
      server.frames.push({ t: clock.now(), frame });
      this.conn.frames += 1;
      if (frame.type === "message" && server.refusedAt.has(frame.client_id)) {
        const wait = server.retryAfter.get(frame.client_id);
        if (wait !== undefined && clock.now() - server.refusedAt.get(frame.client_id) < wait) server.early += 1;
      }
      const replies = behaviour.onFrame(frame, this.conn, server) || [];
      for (const reply of replies) this.serverSend(reply);
    }

    serverSend(reply) {
      clock.setTimeout(() => {
        if (this.readyState !== 1) return;
        if (reply.close) this.serverClose(reply.close);
        else if (this.onmessage) this.onmessage({ data: JSON.stringify(reply) });
      }, 5);
    }

    serverClose(code) {
      if (this.readyState === 3) return;
      this.readyState = 3;
      if (this.onclose) this.onclose({ code });
    }

    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      clock.setTimeout(() => { if (this.onclose) this.onclose({ code: 1005 }); }, 5);
    }
  }

  server.WebSocket = FakeWebSocket;
  return server;
}

function store(server, frame) {
  if (!server.stored.includes(frame.client_id)) server.stored.push(frame.client_id);
  return { type: "ack", client_id: frame.client_id, seq: server.stored.indexOf(frame.client_id) + 1 };
}

function refuse(server, frame, clock, retryAfterMs) {
  server.refusedAt.set(frame.client_id, clock.now());
  const error = { type: "error", code: "rate_limited", client_id: frame.client_id };
  if (retryAfterMs !== undefined) {
    error.retry_after_ms = retryAfterMs;
    server.retryAfter.set(frame.client_id, retryAfterMs);
  }
  return [error];
}

// Each behaviour answers resume with a state frame, ping with pong, and
// messages as its name says.
function behaviours(clock) {
  const common = (frame) => {
    if (frame.type === "resume") return [{ type: "state", status: "active" }];
    if (frame.type === "ping") return [{ type: "pong" }];
    return null;
  };
  const on = (message) => ({
    onFrame(frame, conn, server) {
      return common(frame) || (frame.type === "message" ? message(frame, conn, server) : []);
    },
  });
  let tokens = 0;
  let tokensAt = 0;
  return {
    // Acknowledges everything: the outbox drains, each message stored once, in order.
    ack_all: on((frame, conn, server) => [store(server, frame)]),
    // As the real server: the message's own frame coming back is its acknowledgement (no ack frame).
    echo_all: on((frame, conn, server) => {
      const seq = store(server, frame).seq;
      return [{ type: "message", seq, sender: "visitor", client_id: frame.client_id, text: frame.text }];
    }),
    // Refuses every message without a hint: the page's own backoff.
    refuse: on((frame, conn, server) => refuse(server, frame, clock)),
    // Refuses every message and asks for 250 ms.
    refuse_retry_after: on((frame, conn, server) => refuse(server, frame, clock, 250)),
    // Refuses with retry_after_ms 0: a server bug must not become a storm.
    refuse_retry_after_zero: on((frame, conn, server) => refuse(server, frame, clock, 0)),
    // The real server's limit: one message a second per connection, the rest refused.
    one_per_second: on((frame, conn, server) => {
      const now = clock.now();
      tokens = Math.min(1, tokens + (now - tokensAt) / 1000);
      tokensAt = now;
      if (tokens >= 1) {
        tokens -= 1;
        return [store(server, frame)];
      }
      return refuse(server, frame, clock, Math.ceil((1 - tokens) * 1000));
    }),
    // Stores a message, then the connection drops: a reconnect loop.
    ack_then_drop: on((frame, conn, server) => [store(server, frame), { close: 1011 }]),
    // Accepts the connection and drops it at once.
    drop_on_open: {
      onOpen(conn) { conn.ws.serverSend({ close: 1012 }); },
      onFrame: () => [],
    },
    // Over the frame budget for long: closed with 4429 on the first message.
    over_budget: on(() => [{ close: 4429 }]),
    // The staff session expired: 4401.
    logged_out: on(() => [{ close: 4401 }]),
    // Access revoked (deactivated, role taken, logged out elsewhere): 4403.
    access_revoked: on(() => [{ close: 4403 }]),
    // A connection that looks open but answers nothing.
    silent: { onFrame: () => [] },
  };
}

// Reconnects with `count` unsent messages and lets `minutes` pass.
export function run(socketModule, name, { count = 100, seconds = 60, lanes = 1 } = {}) {
  const clock = new FakeClock();
  const server = makeServer(clock, behaviours(clock)[name]);
  const statuses = [];
  let bound = false;
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const socket = new socketModule.ChatSocket({
    url: "ws://socket.test/ws/chat/",
    clock,
    random,
    WebSocket: server.WebSocket,
    isOnline: () => true,
    onOpen() {
      bound = false;
      socket.send({ type: "resume", token: "t", last_seq: 0 });
    },
    onFrame(frame) {
      if (frame.type === "state") {
        bound = true;
        socket.kick();
      }
    },
    onStatus(status, info) { statuses.push({ t: clock.now(), status, code: info.code }); },
    canSend: () => bound,
  });
  for (let i = 0; i < count; i++) {
    const frame = { type: "message", client_id: `m${String(i).padStart(3, "0")}`, text: `message ${i}` };
    if (lanes > 1) frame.conversation_id = i % lanes;
    socket.enqueue(frame, "retrying");
  }
  socket.connect();
  clock.advance(seconds * 1000);
  const messageFrames = server.frames.filter((f) => f.frame.type === "message");
  return {
    frames: server.frames.length,
    messageFrames: messageFrames.length,
    distinctSent: new Set(messageFrames.map((f) => f.frame.client_id)).size,
    connections: server.connections,
    connectTimes: server.connectTimes,
    stored: server.stored,
    early: server.early,
    maxTimers: clock.maxTimers,
    statuses,
    outboxLeft: socket.outbox.entries.size,
    busiestSecond: busiest(server.frames),
  };
}

function busiest(frames) {
  const perSecond = new Map();
  for (const { t } of frames) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) || 0) + 1);
  return Math.max(0, ...perSecond.values());
}
