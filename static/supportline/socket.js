// The one client socket of the support line, shared by the young person's
// page (chat.js) and the counsellor console (console.js). Protocol and the
// numbers below: docs/chat-protocol.md ("The client socket").
//
// It connects, pings, reconnects with capped exponential backoff and jitter,
// and keeps an outbox of message frames that it resends, with the same
// client_id, until the server acknowledges them. Whatever the server answers,
// the page cannot storm: one timer drives every resend, each lane (one chat)
// has at most one message in flight, message frames are paced by a token
// bucket below the server's limit, and `rate_limited` pauses the outbox for
// the server's `retry_after_ms` or, without it, for a growing backoff.
//
// Timers, randomness and the WebSocket class can be injected, so the same
// code runs against a fake clock in tests.

export const CLOSE_SESSION_EXPIRED = 4401; // staff session over: stop, show logged out
export const CLOSE_ACCESS_REVOKED = 4403; // deactivated, role taken, logged out elsewhere: stop, say so
export const CLOSE_OVER_BUDGET = 4429; // over the frame budget for long: stay away longer

export const TIMING = Object.freeze({
  reconnectBaseMs: 500,
  reconnectCapMs: 30000,
  overBudgetMs: 60000,
  // A connection must live this long before the reconnect backoff starts
  // over; a server that accepts and drops at once still sees a growing wait.
  stableMs: 10000,
  pingEveryMs: 15000,
  pongTimeoutMs: 8000,
  ackTimeoutMs: 6000,
  resendCapMs: 60000,
  limitedBaseMs: 500,
  limitedCapMs: 30000,
  // Below the server's 5 messages a second per connection, so an honest page
  // is never refused; it also bounds any resend pattern to 240 frames a minute.
  messagesPerSecond: 4,
  messageBurst: 1,
});

const OPEN = 1;
const CONNECTING = 0;

const realClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => window.setTimeout(fn, ms),
  clearTimeout: (id) => window.clearTimeout(id),
};

// Capped exponential backoff with ±25 % jitter; jitter is applied after the
// cap so that clients at the cap do not come back in step.
export function backoff(attempt, baseMs, capMs, random = Math.random) {
  return Math.min(capMs, baseMs * 2 ** attempt) * (0.75 + random() * 0.5);
}

// A client_id that no other message will have: never Math.random.
export function newClientId(crypto = globalThis.crypto) {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function socketUrl(path, location = window.location) {
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
}

// Unacknowledged message frames, keyed by client_id, in the order they were
// written. Sending is paced and ordered per lane (a conversation), so a
// refusal can never let a later message overtake an earlier one.
class Outbox {
  constructor({ clock, random, timing, transmit, canSend, onChange }) {
    this.clock = clock;
    this.random = random;
    this.timing = timing;
    this.transmit = transmit;
    this.canSend = canSend;
    this.onChange = onChange;
    this.entries = new Map();
    this.pausedUntil = 0;
    this.pausedAt = -Infinity;
    this.limitedStreak = 0;
    this.tokens = timing.messageBurst;
    this.tokensAt = clock.now();
    this.timer = null;
    this.timerAt = Infinity;
  }

  add(frame, state) {
    const entry = {
      clientId: frame.client_id,
      lane: frame.conversation_id === undefined ? "" : String(frame.conversation_id),
      frame,
      state: null,
      inFlight: false,
      dueAt: 0,
      sentAt: -Infinity,
      tries: 0,
    };
    this.entries.set(entry.clientId, entry);
    this.setState(entry, state);
    this.kick();
    return entry;
  }

  ack(clientId) {
    const entry = this.entries.get(clientId);
    if (!entry) return;
    this.entries.delete(clientId);
    this.limitedStreak = 0;
    this.setState(entry, "sent");
    this.kick();
  }

  forget(predicate) {
    for (const [clientId, entry] of this.entries) {
      if (predicate(entry)) this.entries.delete(clientId);
    }
    this.kick();
  }

  clear() {
    this.entries.clear();
    this.cancelTimer();
  }

  // The server refused a frame for its rate. It stored nothing, so the
  // message goes back to the front of its lane; the whole outbox waits.
  limited(clientId, retryAfterMs) {
    const now = this.clock.now();
    const entry = clientId ? this.entries.get(clientId) : undefined;
    if (entry) {
      entry.inFlight = false;
      entry.dueAt = 0;
      this.setState(entry, "retrying");
    }
    // Refusals of frames sent before the current pause began belong to the
    // round that caused it: they must not deepen the backoff again.
    const sameRound = entry ? entry.sentAt < this.pausedAt : now < this.pausedUntil;
    if (!sameRound) {
      const own = backoff(this.limitedStreak, this.timing.limitedBaseMs, this.timing.limitedCapMs, this.random);
      let delay = own;
      if (typeof retryAfterMs === "number" && retryAfterMs >= 0 && Number.isFinite(retryAfterMs)) {
        // Never sooner than the server asked; if its hint did not help,
        // the own backoff takes over from the second refusal in a row.
        const asked = retryAfterMs * (1 + this.random() * 0.25);
        const floor = this.limitedStreak > 0
          ? backoff(this.limitedStreak - 1, this.timing.limitedBaseMs, this.timing.limitedCapMs, this.random)
          : 0;
        delay = Math.max(asked, floor);
      }
      this.limitedStreak += 1;
      this.pausedAt = now;
      this.pausedUntil = Math.max(this.pausedUntil, now + delay);
    }
    this.schedule(this.pausedUntil);
  }

  // The socket is gone: nothing is in flight any more, and every message
  // goes out again (same client_id) once the page is ready on a new one.
  disconnected() {
    for (const entry of this.entries.values()) {
      entry.inFlight = false;
      entry.dueAt = 0;
      this.setState(entry, "retrying");
    }
    this.cancelTimer();
  }

  setState(entry, state) {
    if (entry.state === state) return;
    entry.state = state;
    this.onChange(entry, state);
  }

  kick() {
    this.schedule(this.clock.now());
  }

  // The only resend loop: one timer, moved earlier when needed, never doubled.
  schedule(at) {
    if (this.timer !== null && this.timerAt <= at) return;
    this.cancelTimer();
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, at - this.clock.now()));
  }

  cancelTimer() {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  refill(now) {
    const rate = this.timing.messagesPerSecond / 1000;
    this.tokens = Math.min(this.timing.messageBurst, this.tokens + (now - this.tokensAt) * rate);
    this.tokensAt = now;
  }

  pump() {
    const now = this.clock.now();
    if (now < this.pausedUntil) {
      this.schedule(this.pausedUntil);
      return;
    }
    this.refill(now);
    const lanesSeen = new Set();
    let next = Infinity;
    for (const entry of this.entries.values()) {
      if (lanesSeen.has(entry.lane)) continue;
      lanesSeen.add(entry.lane);
      if (entry.inFlight && now < entry.dueAt) {
        next = Math.min(next, entry.dueAt);
        continue;
      }
      if (entry.inFlight) this.setState(entry, "retrying"); // no ack in time
      if (!this.canSend(entry)) continue; // the page kicks when it is ready
      if (this.tokens < 1) {
        next = Math.min(next, now + Math.ceil((1 - this.tokens) / (this.timing.messagesPerSecond / 1000)));
        continue;
      }
      if (!this.transmit(entry.frame)) {
        entry.inFlight = false;
        continue; // not connected: the next connection kicks
      }
      this.tokens -= 1;
      entry.inFlight = true;
      entry.sentAt = now;
      entry.dueAt = now + backoff(entry.tries, this.timing.ackTimeoutMs, this.timing.resendCapMs, this.random);
      entry.tries += 1;
      next = Math.min(next, entry.dueAt);
    }
    if (next < Infinity) this.schedule(next);
  }
}

// options:
//   url                      the ws:// or wss:// address
//   onOpen()                 the connection is open: send start/resume/open frames
//   onFrame(frame)           every frame from the server except pong
//   onStatus(status, info)   "open" | "reconnecting" {delayMs, code} | "logged_out" | "access_revoked" | "closed"
//   onOutbox(entry, state)   "sending" | "retrying" | "sent", for entry.clientId
//   canSend(entry)           whether the server can take this message now
//   shouldReconnect()        false stops reconnecting after a close
//   clock, random, WebSocket, timing, isOnline   injected in tests
export class ChatSocket {
  constructor(options) {
    this.options = options;
    this.clock = options.clock || realClock;
    this.random = options.random || Math.random;
    this.timing = { ...TIMING, ...(options.timing || {}) };
    this.WebSocketImpl = options.WebSocket || globalThis.WebSocket;
    this.isOnline = options.isOnline || (() => navigator.onLine !== false);
    this.ws = null;
    this.attempts = 0;
    this.stopped = false;
    this.notBefore = 0;
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.stableTimer = null;
    this.outbox = new Outbox({
      clock: this.clock,
      random: this.random,
      timing: this.timing,
      transmit: (frame) => this.send(frame),
      canSend: options.canSend || (() => true),
      onChange: options.onOutbox || (() => {}),
    });
  }

  get isOpen() {
    return this.ws !== null && this.ws.readyState === OPEN;
  }

  connect() {
    if (this.stopped) return;
    this.cancel("reconnectTimer");
    this.detach();
    const ws = new this.WebSocketImpl(this.options.url);
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.startHeartbeat();
      this.stableTimer = this.clock.setTimeout(() => {
        this.stableTimer = null;
        this.attempts = 0;
      }, this.timing.stableMs);
      this.status("open", { reconnected: this.attempts > 0 });
      if (this.options.onOpen) this.options.onOpen();
      this.outbox.kick();
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      if (frame && typeof frame === "object") this.receive(frame);
    };
    ws.onclose = (event) => {
      if (ws === this.ws) this.closed(event.code);
    };
  }

  send(frame) {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  // A message frame (with client_id) that is sent until acknowledged.
  enqueue(frame, state = this.isOpen ? "sending" : "retrying") {
    return this.outbox.add(frame, state);
  }

  // Stop resending: the message is shown, refused for good, or its chat is gone.
  forget(clientId) {
    this.outbox.forget((entry) => entry.clientId === clientId);
  }

  forgetWhere(predicate) {
    this.outbox.forget(predicate);
  }

  // The page became ready to send (bound to its chat, a chat re-opened).
  kick() {
    this.outbox.kick();
  }

  // The network is back or the page is visible again: try at once, unless
  // the server asked us to stay away (4429).
  reconnectNow() {
    if (this.stopped || this.clock.now() < this.notBefore) return;
    if (this.ws && (this.ws.readyState === OPEN || this.ws.readyState === CONNECTING)) return;
    if (!this.shouldReconnect()) return;
    this.connect();
  }

  // Drops a socket that may look open but is not (offline, no pong) without
  // waiting for a close handshake that will not come.
  dropConnection() {
    if (!this.ws) return;
    this.detach();
    this.closed(1006);
  }

  // For good: the chat ended or the page is leaving.
  stop() {
    this.stopped = true;
    this.outbox.clear();
    this.stopHeartbeat();
    this.cancel("reconnectTimer");
    this.cancel("stableTimer");
    this.detach();
  }

  // online/offline and a page coming back to the foreground (a phone waking).
  watchNetwork(win = window, doc = document) {
    win.addEventListener("online", () => this.reconnectNow());
    win.addEventListener("offline", () => this.dropConnection());
    doc.addEventListener("visibilitychange", () => {
      if (doc.visibilityState === "visible") this.reconnectNow();
    });
  }

  // --- internals ---

  shouldReconnect() {
    return this.options.shouldReconnect ? this.options.shouldReconnect() : true;
  }

  status(name, info = {}) {
    if (this.options.onStatus) this.options.onStatus(name, info);
  }

  receive(frame) {
    if (frame.type === "pong") {
      this.cancel("pongTimer");
      return;
    }
    // A message's own frame coming back acknowledges it (the server sends a
    // separate ack only for a message it has already shown on this socket).
    if ((frame.type === "ack" || frame.type === "message") && frame.client_id) this.outbox.ack(frame.client_id);
    if (frame.type === "error" && frame.code === "rate_limited") {
      this.outbox.limited(frame.client_id, frame.retry_after_ms);
    }
    if (this.options.onFrame) this.options.onFrame(frame);
  }

  closed(code) {
    this.ws = null;
    this.stopHeartbeat();
    this.cancel("stableTimer");
    this.outbox.disconnected();
    if (code === CLOSE_SESSION_EXPIRED) {
      // Reconnecting would only be refused until someone logs in again.
      this.stopped = true;
      this.status("logged_out", { code });
      return;
    }
    if (code === CLOSE_ACCESS_REVOKED) {
      // Access was withdrawn: reconnecting would be refused, or open what an administrator just closed.
      this.stopped = true;
      this.status("access_revoked", { code });
      return;
    }
    if (this.stopped || !this.shouldReconnect()) {
      this.status("closed", { code });
      return;
    }
    let delay = backoff(this.attempts, this.timing.reconnectBaseMs, this.timing.reconnectCapMs, this.random);
    if (code === CLOSE_OVER_BUDGET) {
      delay = Math.max(delay, backoff(0, this.timing.overBudgetMs, this.timing.overBudgetMs, this.random));
      this.notBefore = this.clock.now() + delay;
    }
    this.attempts += 1;
    this.status("reconnecting", { delayMs: delay, code });
    this.scheduleReconnect(delay);
  }

  scheduleReconnect(delay) {
    this.cancel("reconnectTimer");
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = null;
      if (this.stopped) return;
      // Offline: wait for the "online" event rather than fail on a timer.
      if (!this.isOnline()) {
        const wait = backoff(this.attempts, this.timing.reconnectBaseMs, this.timing.reconnectCapMs, this.random);
        this.attempts += 1;
        this.scheduleReconnect(wait);
      } else {
        this.connect();
      }
    }, delay);
  }

  detach() {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onopen = ws.onmessage = ws.onclose = null;
    try {
      ws.close();
    } catch (e) {
      /* already closed */
    }
  }

  // A dropped network often leaves a socket that looks open: ping it.
  startHeartbeat() {
    this.stopHeartbeat();
    this.schedulePing();
  }

  schedulePing() {
    this.pingTimer = this.clock.setTimeout(() => {
      this.pingTimer = null;
      if (!this.send({ type: "ping" })) return;
      if (this.pongTimer === null) {
        this.pongTimer = this.clock.setTimeout(() => {
          this.pongTimer = null;
          this.dropConnection();
        }, this.timing.pongTimeoutMs);
      }
      this.schedulePing();
    }, this.timing.pingEveryMs);
  }

  stopHeartbeat() {
    this.cancel("pingTimer");
    this.cancel("pongTimer");
  }

  cancel(name) {
    if (this[name] !== null) this.clock.clearTimeout(this[name]);
    this[name] = null;
  }
}
