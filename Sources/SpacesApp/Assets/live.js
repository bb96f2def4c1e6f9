/*
 * live.js: SpacesLive, a small browser client for Engine.IO v4 / Socket.IO v5 (default namespace "/" only).
 *
 *   const client = SpacesLive.connect({ onEvent(name, ...args) {}, onState(state, transport) {} });
 *   (options: url, path, transports, query, withCredentials: cookies to another origin too)
 *   client.on('status', (update) => {});
 *   client.emit('watch', requestId);
 *
 * One WebSocket or long-polling connection, no upgrade: the transports are tried in order on every
 * (re)connect, so a WebSocket that was blocked comes back by itself. Events only: no acks, no binary.
 * States: 'connecting' (transport being tried), 'connected' (transport), 'disconnected' (a live connection
 * was lost, or close()), 'failed' (three attempts in a row found no working transport; retrying goes on
 * quietly in the background, and the next success reports 'connected' again).
 * Emits are sent at most once: made while offline, they wait in a bounded queue for the next connection;
 * handed to a connection that then drops, they are lost.
 * Connection state recovery, when the server has it on: the client sends back the session id and the last
 * broadcast offset it got, and the server replays what it missed (client.recovered tells); the offset stays
 * the last argument of broadcast events, as with the official client.
 * Plain ES2017, no dependencies; served by SpacesApp at /static/live.js.
 */
(function (global) {
  'use strict';

  const RECORD_SEPARATOR = '\x1e';     // between packets in a polling payload
  const OPEN_TIMEOUT_MS = 5000;        // a transport must deliver the Engine.IO open packet within this...
  const JOIN_TIMEOUT_MS = 5000;        // ...and the server must admit us to "/" within this after the open
  const POST_TIMEOUT_MS = 20000;       // a polling POST; long-poll GETs are bounded by the heartbeat instead
  const QUEUE_LIMIT = 100;             // emits kept while offline; the oldest go first
  const BACKOFF_START_MS = 500;
  const BACKOFF_MAX_MS = 5000;
  const BACKOFF_MAX_AFTER_FAILED_MS = 10000;
  const ATTEMPTS_BEFORE_FAILED = 3;

  const ENGINE_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];
  const SIO_CONNECT = 0, SIO_DISCONNECT = 1, SIO_EVENT = 2, SIO_CONNECT_ERROR = 4;

  const debug = (...args) => console.debug('SpacesLive:', ...args);

  // ---- Codecs: pure functions over strings; null means "malformed, ignore it". ----

  /** An Engine.IO packet ("4hello") as { type, data }; binary ("b...") packets come back as type 'binary'. */
  function decodeEnginePacket(text) {
    if (typeof text !== 'string' || text.length === 0) return null;
    if (text[0] === 'b') return { type: 'binary', data: '' };
    const type = ENGINE_TYPES[text.charCodeAt(0) - 48];
    return type ? { type: type, data: text.slice(1) } : null;
  }

  /** The JSON of an open packet, when it has what we rely on. */
  function decodeOpen(data) {
    let info;
    try { info = JSON.parse(data); } catch (e) { return null; }
    const positive = (n) => typeof n === 'number' && isFinite(n) && n > 0;
    if (!info || typeof info.sid !== 'string' || !positive(info.pingInterval) || !positive(info.pingTimeout)) return null;
    return { sid: info.sid, pingInterval: info.pingInterval, pingTimeout: info.pingTimeout,
             maxPayload: positive(info.maxPayload) ? info.maxPayload : 1e6 };
  }

  /** A Socket.IO packet (the data of an Engine.IO message): type digit, [attachments-], [/nsp,], [ack id], [JSON]. */
  function decodeSocketPacket(text) {
    if (typeof text !== 'string' || text.length === 0) return null;
    const type = text.charCodeAt(0) - 48;
    if (!(type >= 0 && type <= 6)) return null;
    if (type === 5 || type === 6) return { type: type, nsp: null, data: undefined }; // binary: not supported
    let rest = text.slice(1);
    let nsp = '/';
    if (rest[0] === '/') {
      const comma = rest.indexOf(',');
      nsp = comma < 0 ? rest : rest.slice(0, comma);
      rest = comma < 0 ? '' : rest.slice(comma + 1);
    }
    rest = rest.replace(/^\d+/, ''); // an ack id: we never answer acks, so the id is not kept
    let data;
    if (rest.length > 0) {
      try { data = JSON.parse(rest); } catch (e) { return null; }
    }
    const isObject = data !== null && typeof data === 'object' && !Array.isArray(data);
    const valid =
      type === SIO_CONNECT ? data === undefined || isObject :
      type === SIO_DISCONNECT ? data === undefined :
      type === SIO_EVENT ? Array.isArray(data) && typeof data[0] === 'string' :
      type === SIO_CONNECT_ERROR ? isObject || typeof data === 'string' :
      true; // 3 (ack): ignored by the caller anyway
    return valid ? { type: type, nsp: nsp, data: data } : null;
  }

  // ---- Transports: move Engine.IO packets (strings); they know nothing of what the packets mean. ----
  // Each takes a sink { packet(text), closed(reason) } and returns { opened(info), send(packets), close(goodbye) }.
  // After close() or after reporting closed(), a transport makes no more calls to its sink.

  /**
   * Where to connect, and which cookies go along: same-origin ones always; cross-origin only with
   * `withCredentials: true`, which needs a server whose CORS answer names the origin (not `*`).
   */
  function makeEndpoint(options) {
    const base = new URL(options.path, options.url || global.location.href);
    let counter = 0;
    return {
      credentials: options.withCredentials ? 'include' : 'same-origin',
      url(transport, sid) {
        const url = new URL(base.href);
        Object.keys(options.query).forEach((key) => {
          if (options.query[key] != null) url.searchParams.set(key, String(options.query[key]));
        });
        url.searchParams.set('EIO', '4');
        url.searchParams.set('transport', transport);
        if (transport === 'websocket') {
          url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
        } else {
          // Against caches that ignore Cache-Control on GETs (some proxies, old mobile browsers).
          url.searchParams.set('t', Date.now().toString(36) + '.' + (counter++).toString(36));
          if (sid) url.searchParams.set('sid', sid);
        }
        return url.href;
      },
    };
  }

  /** WebSocket: one Engine.IO packet per text frame. */
  function webSocketTransport(endpoint, sink) {
    if (typeof global.WebSocket !== 'function') throw new Error('WebSocket is not available');
    const ws = new global.WebSocket(endpoint.url('websocket'));
    ws.binaryType = 'arraybuffer';
    let done = false;
    function stop() {
      if (done) return false;
      done = true;
      ws.onmessage = ws.onerror = ws.onclose = null;
      try { ws.close(); } catch (e) { /* already closing */ }
      return true;
    }
    function finish(reason) { if (stop()) sink.closed(reason); }
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') sink.packet(event.data);
      else debug('binary frame ignored');
    };
    ws.onerror = () => finish('websocket error');
    ws.onclose = (event) => finish('websocket closed (' + event.code + ')');
    return {
      opened() {},
      send(packets) {
        try { packets.forEach((packet) => ws.send(packet)); } catch (e) { finish('websocket send failed: ' + e.message); }
      },
      close: stop,
    };
  }

  /** Long-polling: a GET loop for the way down, POSTs of \x1e-joined packets for the way up, one at a time. */
  function pollingTransport(endpoint, sink) {
    const abort = new AbortController();
    const encoder = new TextEncoder();
    let done = false, sid = null, maxPayload = 1e6, polling = false, posting = false;
    const pending = [];

    function stop() {
      if (done) return false;
      done = true;
      abort.abort();
      return true;
    }
    function finish(reason) { if (stop()) sink.closed(reason); }
    async function request(init) {
      const response = await fetch(endpoint.url('polling', sid), Object.assign({
        credentials: endpoint.credentials, cache: 'no-store', signal: abort.signal,
      }, init));
      const body = await response.text();
      if (!response.ok) throw new Error('HTTP ' + response.status + ' ' + body.slice(0, 100));
      return body;
    }
    function deliver(payload) {
      for (const packet of payload.split(RECORD_SEPARATOR)) {
        if (done) return; // the sink may have closed us on an earlier packet of this payload
        if (packet) sink.packet(packet);
      }
    }
    // The first GET is the handshake: its open packet makes the session call opened(), which sets sid (and
    // without one the loop stops; the session's open timeout ends it).
    async function pollLoop() {
      do {
        let payload;
        polling = true;
        try {
          payload = await request({});
        } catch (e) {
          return finish((sid ? 'poll' : 'handshake') + ' failed: ' + e.message);
        } finally {
          polling = false;
        }
        deliver(payload);
      } while (!done && sid !== null);
    }
    // As many pending packets as fit in the server's maxPayload (at least one; an oversized one is the server's call).
    function takeBatch() {
      let size = 0, count = 0;
      while (count < pending.length) {
        size += encoder.encode(pending[count]).length + (count > 0 ? 1 : 0);
        if (count > 0 && size > maxPayload) break;
        count += 1;
      }
      return pending.splice(0, count);
    }
    async function flush() {
      if (done || posting || sid === null || pending.length === 0) return;
      posting = true;
      const timer = setTimeout(() => finish('POST timed out'), POST_TIMEOUT_MS);
      try {
        await request({ method: 'POST', body: takeBatch().join(RECORD_SEPARATOR),
                        headers: { 'Content-Type': 'text/plain;charset=UTF-8' } });
      } catch (e) {
        return finish('POST failed: ' + e.message);
      } finally {
        clearTimeout(timer);
        posting = false;
      }
      flush();
    }

    pollLoop();
    return {
      opened(info) {
        sid = info.sid;
        maxPayload = info.maxPayload;
        flush();
      },
      send(packets) {
        pending.push(...packets);
        flush();
      },
      // Aborting the pending long-poll ends the session on the server too (engine.io: "poll connection closed
      // prematurely"; ours likewise). Between polls there is none to abort: then a close packet says goodbye,
      // else the session would linger until its heartbeat times out.
      close(goodbye) {
        const betweenPolls = !polling && sid !== null;
        if (!stop() || !goodbye || !betweenPolls) return;
        fetch(endpoint.url('polling', sid), { method: 'POST', body: '1', keepalive: true, credentials: endpoint.credentials,
                                              headers: { 'Content-Type': 'text/plain;charset=UTF-8' } }).catch(() => {});
      },
    };
  }

  const TRANSPORTS = { websocket: webSocketTransport, polling: pollingTransport };

  // ---- The client: one session (transport + Engine.IO + namespace "/") at a time, reconnection, the queue. ----

  function connect(userOptions) {
    const o = userOptions || {};
    const transports = o.transports === undefined ? ['websocket', 'polling'] : o.transports;
    if (!Array.isArray(transports) || transports.length === 0 || transports.some((t) => !TRANSPORTS[t])) {
      throw new TypeError("SpacesLive: transports must list 'websocket' and/or 'polling'");
    }
    const options = { url: o.url || '', path: o.path || '/socket.io/', transports: transports, query: o.query || {},
                      withCredentials: !!o.withCredentials, onEvent: o.onEvent, onState: o.onState };
    const endpoint = makeEndpoint(options);
    const handlers = new Map();   // event name -> [handler]
    const queue = [];             // encoded EVENT packets waiting for a connection
    let session = null;           // the one attempt or connection under way
    let closed = false, failures = 0, failedReported = false, retryTimer = null;
    let lastState = null, lastTransport = null;
    // Connection state recovery (servers with it on): the private session id of the last CONNECT answer and
    // the offset that ends each broadcast. Sent back in the next CONNECT, they get us the same socket, its
    // rooms, and the broadcasts missed while away (a progress update during a network blip).
    let pid = null, lastOffset = null, recovered = false;

    // User code must not break us: its exceptions are logged and dropped.
    function safeCall(fn, args) {
      if (typeof fn !== 'function') return;
      try { fn.apply(null, args); } catch (e) { console.error('SpacesLive: callback threw', e); }
    }
    function report(state, transport) {
      if (state === lastState && transport === lastTransport) return;
      lastState = state;
      lastTransport = transport;
      safeCall(options.onState, [state, transport]);
    }

    function startAttempt() {
      retryTimer = null;
      if (!closed && session === null) tryTransport(0);
    }

    function tryTransport(index) {
      if (index >= options.transports.length) return attemptFailed('no transport worked');
      const name = options.transports[index];
      // stage: 'opening' (until the Engine.IO open) -> 'joining' (until "/" admits us) -> 'connected'.
      const s = { index: index, name: name, stage: 'opening', transport: null, timer: null, watchdog: null, heartbeatMs: 0 };
      session = s;
      if (!failedReported) report('connecting', name);
      if (session !== s) return; // onState called close()
      s.timer = setTimeout(() => endSession(s, 'no open packet within ' + OPEN_TIMEOUT_MS + ' ms'), OPEN_TIMEOUT_MS);
      const sink = {
        packet: (text) => { if (session === s) onEnginePacket(s, text); },
        closed: (reason) => endSession(s, reason),
      };
      try {
        s.transport = TRANSPORTS[name](endpoint, sink);
      } catch (e) {
        endSession(s, name + ' failed to start: ' + e.message);
      }
    }

    // Where a session ends decides what comes next: the next transport, a failed attempt, or a lost connection.
    function endSession(s, reason, serverClosed) {
      if (session !== s) return;
      session = null;
      clearTimeout(s.timer);
      clearTimeout(s.watchdog);
      if (s.transport) s.transport.close(!serverClosed);
      debug(s.name + ' session ended (' + s.stage + '): ' + reason);
      if (closed) return;
      if (s.stage === 'opening') return tryTransport(s.index + 1);
      if (s.stage === 'joining') return attemptFailed(reason);
      failures = 0; // a lost connection starts a fresh series of attempts
      report('disconnected', null);
      scheduleRetry();
    }

    function attemptFailed(reason) {
      failures += 1;
      debug('attempt ' + failures + ' failed: ' + reason);
      if (failures >= ATTEMPTS_BEFORE_FAILED && !failedReported) {
        failedReported = true;
        report('failed', null);
      }
      scheduleRetry();
    }

    function scheduleRetry() {
      if (closed) return; // onState called close()
      const cap = failedReported ? BACKOFF_MAX_AFTER_FAILED_MS : BACKOFF_MAX_MS;
      const ceiling = Math.min(cap, BACKOFF_START_MS * Math.pow(2, failures));
      // Half fixed, half random, so that pages dropped together by a restart do not all come back at once.
      retryTimer = setTimeout(startAttempt, ceiling / 2 + Math.random() * (ceiling / 2));
    }

    function armWatchdog(s) {
      clearTimeout(s.watchdog);
      s.watchdog = setTimeout(() => endSession(s, 'no packet within ' + s.heartbeatMs + ' ms'), s.heartbeatMs);
    }

    function onEnginePacket(s, text) {
      const packet = decodeEnginePacket(text);
      if (packet === null) return debug('malformed Engine.IO packet ignored:', text.slice(0, 100));
      if (s.stage === 'opening') {
        if (packet.type !== 'open') return debug('packet before open ignored:', text.slice(0, 100));
        return onOpen(s, packet.data);
      }
      armWatchdog(s); // any packet shows the server is alive; pings come every pingInterval at least
      switch (packet.type) {
        case 'ping': return s.transport.send(['3']);
        case 'close': return endSession(s, 'server closed the session', true);
        case 'message': return onSocketPacket(s, packet.data);
        default: return; // pong, upgrade, noop, binary, a second open: nothing to do
      }
    }

    function onOpen(s, data) {
      const info = decodeOpen(data);
      if (info === null) return endSession(s, 'malformed open packet');
      s.stage = 'joining';
      s.heartbeatMs = info.pingInterval + info.pingTimeout;
      clearTimeout(s.timer);
      s.timer = setTimeout(() => endSession(s, 'not admitted to "/" within ' + JOIN_TIMEOUT_MS + ' ms'), JOIN_TIMEOUT_MS);
      armWatchdog(s);
      s.transport.opened(info);
      const auth = pid === null ? '' : JSON.stringify(lastOffset === null ? { pid: pid } : { pid: pid, offset: lastOffset });
      if (session === s) s.transport.send(['40' + auth]);
    }

    function onSocketPacket(s, text) {
      const packet = decodeSocketPacket(text);
      if (packet === null) return debug('malformed Socket.IO packet ignored:', text.slice(0, 100));
      if (packet.nsp !== '/') return;
      if (packet.type === SIO_CONNECT && s.stage === 'joining' && packet.data && typeof packet.data.sid === 'string') {
        const newPid = typeof packet.data.pid === 'string' ? packet.data.pid : null;
        recovered = newPid !== null && newPid === pid;
        pid = newPid;
        if (!recovered) lastOffset = null;
        admitted(s);
      } else if (packet.type === SIO_DISCONNECT) {
        pid = null; // a deliberate disconnect: the server keeps no session
        lastOffset = null;
        endSession(s, 'the server disconnected us');
      } else if (packet.type === SIO_CONNECT_ERROR && s.stage === 'joining') {
        endSession(s, 'connect error: ' + JSON.stringify(packet.data));
      } else if (packet.type === SIO_EVENT && s.stage === 'connected') {
        const args = packet.data.slice(1);
        // As the official client: the offset stays an argument (only broadcasts carry one).
        if (pid !== null && typeof args[args.length - 1] === 'string') lastOffset = args[args.length - 1];
        dispatch(packet.data[0], args);
      }
    }

    function admitted(s) {
      clearTimeout(s.timer);
      s.stage = 'connected';
      failures = 0;
      failedReported = false;
      // The queue goes before the 'connected' report, so emits made from onState come after it.
      if (queue.length > 0) s.transport.send(queue.splice(0));
      if (session === s) report('connected', s.name);
    }

    function dispatch(name, args) {
      safeCall(options.onEvent, [name].concat(args));
      const list = handlers.get(name);
      if (list) list.slice().forEach((handler) => safeCall(handler, args));
    }

    const client = {
      emit(name, ...args) {
        if (typeof name !== 'string') throw new TypeError('SpacesLive: event name must be a string');
        const packet = '42' + JSON.stringify([name].concat(args));
        if (closed) return client;
        if (session !== null && session.stage === 'connected') {
          session.transport.send([packet]);
        } else {
          queue.push(packet);
          if (queue.length > QUEUE_LIMIT) debug('queue full, dropped:', queue.shift().slice(0, 100));
        }
        return client;
      },
      on(name, handler) {
        if (typeof handler !== 'function') throw new TypeError('SpacesLive: handler must be a function');
        if (!handlers.has(name)) handlers.set(name, []);
        handlers.get(name).push(handler);
        return client;
      },
      close() {
        if (closed) return;
        closed = true;
        clearTimeout(retryTimer);
        if (session !== null) endSession(session, 'closed by the page');
        queue.length = 0;
        report('disconnected', null);
      },
      get connected() { return session !== null && session.stage === 'connected'; },
      get transport() { return session !== null && session.stage === 'connected' ? session.name : null; },
      /** Whether the last connection recovered the previous one (same socket, missed broadcasts replayed). */
      get recovered() { return recovered; },
    };
    // Started from a timer so that callbacks never run before connect() has returned the client.
    retryTimer = setTimeout(startAttempt, 0);
    return client;
  }

  // _decodeForTest: the codecs, for the browser tests (Tests/Browser/live_client_test.py); not an API.
  global.SpacesLive = {
    connect: connect,
    _decodeForTest(text) {
      const engine = decodeEnginePacket(text);
      return { engine: engine, socket: engine && engine.type === 'message' ? decodeSocketPacket(engine.data) : undefined };
    },
  };
})(typeof window !== 'undefined' ? window : this);
