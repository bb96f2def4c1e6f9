/*
 * socket.io.js: our browser client for Socket.IO v5 over Engine.IO v4, served by the server at
 * /socket.io/socket.io.js (minified). Written from the protocol specifications; it offers the global `io`
 * that pages written for the official client call:
 *
 *   const socket = io();                       // the page's origin, namespace "/"
 *   const admin = io('/admin', { auth: { token } });
 *   socket.on('news', (...args) => {});
 *   socket.emit('hello', 'world', (answer) => {});
 *   socket.timeout(5000).emit('hello', (err, answer) => {});
 *   const answer = await socket.emitWithAck('hello');
 *
 * Layers, bottom to top: Emitter; the Engine.IO codec; the polling and WebSocket transports; Engine (one
 * Engine.IO session: handshake, upgrade, heartbeat, write buffer); the Socket.IO codec (binary attachments);
 * Manager (one Engine per server, namespaces multiplexed on it, reconnection with backoff); Socket (one
 * namespace); io() (finds or makes the Manager).
 * Plain ES2017, no dependencies.
 */
(function (global) {
  'use strict';

  // ---- Emitter ----

  class Emitter {
    constructor() { this._listeners = new Map(); }
    on(event, fn) {
      if (!this._listeners.has(event)) this._listeners.set(event, []);
      this._listeners.get(event).push(fn);
      return this;
    }
    addEventListener(event, fn) { return this.on(event, fn); }
    once(event, fn) {
      const wrapper = (...args) => { this.off(event, wrapper); fn.apply(this, args); };
      wrapper.original = fn;
      return this.on(event, wrapper);
    }
    off(event, fn) {
      if (event === undefined) { this._listeners.clear(); return this; }
      if (fn === undefined) { this._listeners.delete(event); return this; }
      const list = this._listeners.get(event);
      if (list) {
        const at = list.findIndex((l) => l === fn || l.original === fn);
        if (at >= 0) list.splice(at, 1);
        if (list.length === 0) this._listeners.delete(event);
      }
      return this;
    }
    removeListener(event, fn) { return this.off(event, fn); }
    removeAllListeners(event) { return this.off(event); }
    removeEventListener(event, fn) { return this.off(event, fn); }
    listeners(event) { return (this._listeners.get(event) || []).slice(); }
    hasListeners(event) { return this.listeners(event).length > 0; }
    // Reserved events (connect, disconnect, ...) go through here, so that Socket can override emit.
    emitReserved(event, ...args) {
      for (const fn of this.listeners(event)) fn.apply(this, args);
      return this;
    }
    emit(event, ...args) { return this.emitReserved(event, ...args); }
  }

  // ---- Engine.IO v4 codec ----

  const ENGINE_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'];
  const RECORD_SEPARATOR = '\x1e';

  // ArrayBuffer and its views (typed arrays, DataView); a Blob is not sent as binary (read it into an ArrayBuffer).
  const isBinary = (v) => typeof ArrayBuffer === 'function' && (v instanceof ArrayBuffer || ArrayBuffer.isView(v));

  function bytesOf(v) {
    return v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  function toBase64(v) {
    const bytes = bytesOf(v);
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(text);
  }

  function fromBase64(text) {
    const raw = atob(text);
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  /** A packet as one WebSocket frame: text with its type digit, or binary data as it is. */
  function encodeFrame(packet) {
    if (isBinary(packet.data)) return packet.data;
    return ENGINE_TYPES.indexOf(packet.type) + (packet.data === undefined ? '' : String(packet.data));
  }

  /** A packet inside a polling payload: binary as "b" + base64. */
  function encodeForPayload(packet) {
    return isBinary(packet.data) ? 'b' + toBase64(packet.data) : encodeFrame(packet);
  }

  /** A frame or payload element as { type, data }; { type: 'error' } when malformed. */
  function decodePacket(data) {
    if (typeof data !== 'string') return { type: 'message', data: data instanceof ArrayBuffer ? data : bytesOf(data).slice().buffer };
    if (data[0] === 'b') {
      try { return { type: 'message', data: fromBase64(data.slice(1)) }; } catch (e) { return { type: 'error' }; }
    }
    const type = ENGINE_TYPES[data.charCodeAt(0) - 48];
    if (!type) return { type: 'error' };
    return data.length > 1 ? { type: type, data: data.slice(1) } : { type: type };
  }

  const decodePayload = (text) => text.split(RECORD_SEPARATOR).map(decodePacket);

  // ---- Transports: move Engine.IO packets; events 'open', 'packet', 'drain', 'error', 'close'. ----

  class Transport extends Emitter {
    constructor(engine) {
      super();
      this.engine = engine;
      this.opts = engine.opts;
      this.readyState = '';
      this.writable = false;
    }
    open() { this.readyState = 'opening'; this.doOpen(); return this; }
    close() {
      if (this.readyState === 'opening' || this.readyState === 'open') { this.doClose(); this.onClose(); }
      return this;
    }
    send(packets) { if (this.readyState === 'open') this.write(packets); }
    onOpen() { this.readyState = 'open'; this.writable = true; this.emitReserved('open'); }
    onPacket(packet) { this.emitReserved('packet', packet); }
    onError(reason, cause) {
      const error = new Error(reason);
      error.type = 'TransportError';
      error.description = cause;
      this.emitReserved('error', error);
    }
    onClose(description) {
      if (this.readyState === 'closed') return;
      this.readyState = 'closed';
      this.writable = false;
      this.emitReserved('close', description);
    }
    url(scheme) {
      const o = this.opts;
      const query = Object.assign({}, o.query, { EIO: '4', transport: this.name });
      if (this.engine.id) query.sid = this.engine.id;
      if (o.timestampRequests !== false && (this.name === 'polling' || o.timestampRequests)) {
        query[o.timestampParam] = Date.now().toString(36) + (Transport.counter++).toString(36);
      }
      const search = Object.keys(query).filter((k) => query[k] != null)
        .map((k) => encodeURIComponent(k) + '=' + encodeURIComponent(query[k])).join('&');
      const host = o.hostname.indexOf(':') >= 0 ? '[' + o.hostname + ']' : o.hostname;
      const defaultPort = (o.secure ? 443 : 80) === Number(o.port);
      return scheme + '://' + host + (o.port && !defaultPort ? ':' + o.port : '') + o.path + '?' + search;
    }
  }
  Transport.counter = 0;

  /** Long-polling: a GET loop brings packets down, one POST at a time takes them up (\x1e-separated). */
  class Polling extends Transport {
    get name() { return 'polling'; }
    doOpen() { this.poll(); }
    request(init, isPoll) {
      const o = this.opts;
      const controller = typeof AbortController === 'function' ? new AbortController() : null;
      if (isPoll) this.pollController = controller;
      const headers = Object.assign({}, o.extraHeaders, init.headers);
      return fetch(this.url(o.secure ? 'https' : 'http'), Object.assign({}, init, {
        headers: headers, cache: 'no-store', credentials: o.withCredentials ? 'include' : 'same-origin',
        signal: controller ? controller.signal : undefined,
      })).then((response) => response.text().then((body) => {
        if (!response.ok) throw Object.assign(new Error('HTTP ' + response.status), { status: response.status, body: body });
        return body;
      }));
    }
    poll() {
      this.polling = true;
      this.request({ method: 'GET' }, true).then((body) => this.onData(body), (error) => {
        if (this.readyState !== 'closed') this.onError('xhr poll error', error);
      });
    }
    onData(body) {
      for (const packet of decodePayload(body)) {
        if (this.readyState === 'opening' && packet.type === 'open') this.onOpen();
        if (packet.type === 'close') { this.onClose({ description: 'transport closed by the server' }); return; }
        this.onPacket(packet);
        if (this.readyState === 'closed') return;
      }
      this.polling = false;
      this.emitReserved('pollComplete');
      if (this.readyState === 'open') this.poll();
    }
    // Wait for the long-poll and the POST under way to end, so that the other transport takes over cleanly.
    pause(done) {
      this.readyState = 'pausing';
      let waiting = 0;
      const step = () => { if (--waiting === 0) { this.readyState = 'paused'; done(); } };
      if (this.polling) { waiting++; this.once('pollComplete', step); }
      if (!this.writable) { waiting++; this.once('drain', step); }
      if (waiting === 0) { this.readyState = 'paused'; done(); }
    }
    write(packets) {
      this.writable = false;
      const body = packets.map(encodeForPayload).join(RECORD_SEPARATOR);
      this.request({ method: 'POST', body: body, headers: { 'Content-Type': 'text/plain;charset=UTF-8' } }).then(() => {
        this.writable = true;
        this.emitReserved('drain');
      }, (error) => { if (this.readyState !== 'closed') this.onError('xhr post error', error); });
    }
    // A pending long-poll would keep the session (and a connection) open until the next ping: abort it.
    doClose() {
      if (this.readyState === 'open') this.write([{ type: 'close' }]);
      if (this.polling && this.pollController) this.pollController.abort();
    }
  }

  /** WebSocket: one Engine.IO packet per frame; binary data as binary frames. */
  class WS extends Transport {
    get name() { return 'websocket'; }
    doOpen() {
      const WebSocketImpl = this.opts.WebSocket || global.WebSocket;
      if (typeof WebSocketImpl !== 'function') return setTimeout(() => this.onError('websocket error', 'no WebSocket'), 0);
      try {
        this.ws = new WebSocketImpl(this.url(this.opts.secure ? 'wss' : 'ws'), this.opts.protocols);
      } catch (e) {
        // Reported after the caller has subscribed to this transport's events.
        return setTimeout(() => this.onError('websocket error', e), 0);
      }
      this.ws.binaryType = 'arraybuffer';
      this.ws.onopen = () => this.onOpen();
      this.ws.onclose = (event) => this.onClose({ description: 'websocket connection closed', context: event });
      this.ws.onmessage = (event) => this.onPacket(decodePacket(event.data));
      this.ws.onerror = (event) => this.onError('websocket error', event);
    }
    write(packets) {
      this.writable = false;
      try {
        for (const packet of packets) this.ws.send(encodeFrame(packet));
      } catch (e) {
        return this.onError('websocket error', e);
      }
      // The browser queues the frames: the next batch may go at once, but after this call returns.
      setTimeout(() => { if (this.readyState === 'open') { this.writable = true; this.emitReserved('drain'); } }, 0);
    }
    doClose() {
      if (this.ws) {
        this.ws.onerror = () => {};
        this.ws.close();
        this.ws = null;
      }
    }
  }

  const TRANSPORTS = { polling: Polling, websocket: WS };

  // ---- Engine: one Engine.IO session ----

  class Engine extends Emitter {
    constructor(opts) {
      super();
      this.opts = opts;
      this.transports = (opts.transports || ['polling', 'websocket']).filter((t) => TRANSPORTS[t]);
      this.readyState = '';
      this.writeBuffer = [];
      this.prevBufferLen = 0;
      this.id = null;
      this.upgrades = [];
      this.upgrading = false;
      this.open();
    }
    open() {
      if (this.transports.length === 0) {
        setTimeout(() => this.emitReserved('error', new Error('No transports available')), 0);
        return;
      }
      this.readyState = 'opening';
      const transport = new TRANSPORTS[this.transports[0]](this);
      transport.open();
      this.setTransport(transport);
    }
    setTransport(transport) {
      if (this.transport) this.transport.off();
      this.transport = transport;
      transport.on('drain', () => this.onDrain())
        .on('packet', (packet) => this.onPacket(packet))
        .on('error', (error) => this.onError(error))
        .on('close', (description) => this.onClose('transport close', description));
    }
    onPacket(packet) {
      if (this.readyState !== 'opening' && this.readyState !== 'open' && this.readyState !== 'closing') return;
      this.emitReserved('packet', packet);
      this.emitReserved('heartbeat');
      switch (packet.type) {
        case 'open': return this.onHandshake(packet.data);
        case 'ping':
          this.resetPingTimeout();
          this.sendPacket('pong');
          this.emitReserved('ping');
          this.emitReserved('pong');
          return;
        case 'error': return this.onError(new Error('server error'));
        case 'message':
          this.emitReserved('data', packet.data);
          this.emitReserved('message', packet.data);
          return;
        default: return;
      }
    }
    onHandshake(text) {
      let data;
      try { data = JSON.parse(text); } catch (e) { return this.onError(new Error('malformed handshake')); }
      if (!data || typeof data.sid !== 'string') return this.onError(new Error('malformed handshake'));
      this.emitReserved('handshake', data);
      this.id = data.sid;
      this.upgrades = (data.upgrades || []).filter((t) => this.transports.indexOf(t) >= 0 && TRANSPORTS[t]);
      this.pingInterval = data.pingInterval;
      this.pingTimeout = data.pingTimeout;
      this.maxPayload = data.maxPayload || 0;
      this.readyState = 'open';
      this.emitReserved('open');
      this.flush();
      if (this.readyState === 'open' && this.opts.upgrade !== false && this.transport.name === 'polling') {
        this.upgrades.forEach((name) => this.probe(name));
      }
      this.resetPingTimeout();
    }
    resetPingTimeout() {
      clearTimeout(this.pingTimer);
      this.pingTimer = setTimeout(() => this.onClose('ping timeout'), this.pingInterval + this.pingTimeout);
    }
    // Upgrade: a second transport on the same sid; "2probe" → "3probe"; the first one pauses; "5" switches.
    probe(name) {
      let candidate = new TRANSPORTS[name](this);
      let failed = false;
      const cleanup = () => {
        candidate.off('open', onOpen).off('error', onError).off('close', onTransportClose);
        this.off('close', onEngineClose).off('upgrading', onUpgrading);
      };
      const fail = (error) => {
        if (failed) return;
        failed = true;
        cleanup();
        candidate.close();
        candidate = null;
        const err = new Error('probe error: ' + (error && error.message ? error.message : error));
        err.transport = name;
        this.emitReserved('upgradeError', err);
      };
      const onOpen = () => {
        if (failed) return;
        candidate.send([{ type: 'ping', data: 'probe' }]);
        candidate.once('packet', (packet) => {
          if (failed) return;
          if (packet.type !== 'pong' || packet.data !== 'probe') return fail(new Error('unexpected probe answer'));
          this.upgrading = true;
          this.emitReserved('upgrading', candidate);
          this.transport.pause(() => {
            if (failed || this.readyState === 'closed') return;
            cleanup();
            this.setTransport(candidate);
            candidate.send([{ type: 'upgrade' }]);
            this.emitReserved('upgrade', candidate);
            candidate = null;
            this.upgrading = false;
            this.flush();
          });
        });
      };
      const onError = (error) => fail(error);
      const onTransportClose = () => fail(new Error('transport closed'));
      const onEngineClose = () => fail(new Error('socket closed'));
      const onUpgrading = (other) => { if (candidate && other.name !== candidate.name) fail(new Error('another upgrade')); };
      candidate.once('open', onOpen).once('error', onError).once('close', onTransportClose);
      this.once('close', onEngineClose).once('upgrading', onUpgrading);
      candidate.open();
    }
    onDrain() {
      this.writeBuffer.splice(0, this.prevBufferLen);
      this.prevBufferLen = 0;
      if (this.writeBuffer.length === 0) this.emitReserved('drain'); else this.flush();
    }
    flush() {
      if (this.readyState === 'closed' || !this.transport.writable || this.upgrading || this.writeBuffer.length === 0) return;
      const packets = this.writablePackets();
      this.transport.send(packets);
      this.prevBufferLen = packets.length;
      this.emitReserved('flush');
    }
    // Polling: as many packets as fit in the server's maxPayload (at least one).
    writablePackets() {
      if (!(this.maxPayload && this.transport.name === 'polling' && this.writeBuffer.length > 1)) return this.writeBuffer.slice();
      let size = 1;
      for (let i = 0; i < this.writeBuffer.length; i++) {
        const data = this.writeBuffer[i].data;
        size += (typeof data === 'string' ? utf8Length(data) : data ? Math.ceil(bytesOf(data).byteLength * 4 / 3) : 0) + 2;
        if (i > 0 && size > this.maxPayload) return this.writeBuffer.slice(0, i);
      }
      return this.writeBuffer.slice();
    }
    write(data, options, fn) { this.sendPacket('message', data, fn); return this; }
    send(data, options, fn) { return this.write(data, options, fn); }
    sendPacket(type, data, fn) {
      if (this.readyState === 'closing' || this.readyState === 'closed') return;
      const packet = { type: type, data: data };
      this.emitReserved('packetCreate', packet);
      this.writeBuffer.push(packet);
      if (fn) this.once('flush', fn);
      this.flush();
    }
    close() {
      const finish = () => {
        this.onClose('forced close');
        this.transport.close();
      };
      const afterUpgrade = () => { this.off('upgrade', afterUpgrade).off('upgradeError', afterUpgrade); finish(); };
      const waitUpgrade = () => { this.once('upgrade', afterUpgrade).once('upgradeError', afterUpgrade); };
      if (this.readyState === 'opening' || this.readyState === 'open') {
        this.readyState = 'closing';
        if (this.writeBuffer.length) {
          this.once('drain', () => (this.upgrading ? waitUpgrade() : finish()));
        } else if (this.upgrading) {
          waitUpgrade();
        } else {
          finish();
        }
      }
      return this;
    }
    onError(error) {
      this.emitReserved('error', error);
      this.onClose('transport error', error);
    }
    onClose(reason, description) {
      if (this.readyState !== 'opening' && this.readyState !== 'open' && this.readyState !== 'closing') return;
      clearTimeout(this.pingTimer);
      this.transport.off('close');
      this.transport.close();
      this.transport.off();
      this.readyState = 'closed';
      this.id = null;
      this.emitReserved('close', reason, description);
      this.writeBuffer = [];
      this.prevBufferLen = 0;
    }
  }

  function utf8Length(text) {
    let length = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x80) length += 1;
      else if (c < 0x800) length += 2;
      else if (c >= 0xd800 && c < 0xdc00) { length += 4; i++; } else length += 3;
    }
    return length;
  }

  // ---- Socket.IO v5 codec ----

  const PacketType = { CONNECT: 0, DISCONNECT: 1, EVENT: 2, ACK: 3, CONNECT_ERROR: 4, BINARY_EVENT: 5, BINARY_ACK: 6 };

  function hasBinary(value, depth) {
    if (!value || typeof value !== 'object' || (depth || 0) > 64) return false;
    if (isBinary(value)) return true;
    if (Array.isArray(value)) return value.some((v) => hasBinary(v, (depth || 0) + 1));
    if (typeof value.toJSON === 'function') return hasBinary(value.toJSON(), (depth || 0) + 1);
    return Object.keys(value).some((k) => hasBinary(value[k], (depth || 0) + 1));
  }

  // Binary values leave the JSON as {_placeholder: true, num: i} and travel as attachments.
  function deconstruct(value, buffers) {
    if (isBinary(value)) {
      buffers.push(value);
      return { _placeholder: true, num: buffers.length - 1 };
    }
    if (Array.isArray(value)) return value.map((v) => deconstruct(v, buffers));
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      if (typeof value.toJSON === 'function') return deconstruct(value.toJSON(), buffers);
      const out = {};
      for (const k of Object.keys(value)) out[k] = deconstruct(value[k], buffers);
      return out;
    }
    return value;
  }

  function reconstruct(value, buffers) {
    if (Array.isArray(value)) return value.map((v) => reconstruct(v, buffers));
    if (value && typeof value === 'object') {
      if (value._placeholder === true) {
        if (typeof value.num !== 'number' || !(value.num >= 0 && value.num < buffers.length)) throw new Error('illegal attachments');
        return buffers[value.num];
      }
      const out = {};
      for (const k of Object.keys(value)) out[k] = reconstruct(value[k], buffers);
      return out;
    }
    return value;
  }

  /** A packet as Engine.IO messages: its text, then its attachments. */
  function encodeSocketPacket(packet) {
    let type = packet.type;
    let data = packet.data;
    const buffers = [];
    if ((type === PacketType.EVENT || type === PacketType.ACK) && hasBinary(data)) {
      type = type === PacketType.EVENT ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK;
      data = deconstruct(data, buffers);
    }
    let text = String(type);
    if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) text += buffers.length + '-';
    if (packet.nsp && packet.nsp !== '/') text += packet.nsp + ',';
    if (packet.id != null) text += packet.id;
    if (data !== undefined) text += JSON.stringify(data);
    return [text].concat(buffers);
  }

  /** Turns Engine.IO messages into packets (event 'decoded'); throws on malformed input. */
  class SocketDecoder extends Emitter {
    add(message) {
      if (typeof message === 'string') {
        if (this.pending) throw new Error('got text while waiting for attachments');
        const packet = decodeSocketText(message);
        if (packet.attachments > 0) {
          this.pending = { packet: packet, buffers: [] };
        } else {
          this.emitReserved('decoded', packet);
        }
        return;
      }
      if (!this.pending) throw new Error('got binary data when not reconstructing a packet');
      this.pending.buffers.push(message);
      if (this.pending.buffers.length === this.pending.packet.attachments) {
        const { packet, buffers } = this.pending;
        this.pending = null;
        packet.data = reconstruct(packet.data, buffers);
        delete packet.attachments;
        this.emitReserved('decoded', packet);
      }
    }
    destroy() { this.pending = null; this.off(); }
  }

  function decodeSocketText(text) {
    const type = text.charCodeAt(0) - 48;
    if (!(type >= 0 && type <= 6)) throw new Error('unknown packet type ' + text[0]);
    const packet = { type: type, nsp: '/' };
    let i = 1;
    if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
      const dash = text.indexOf('-', i);
      const count = text.slice(i, dash);
      if (dash < 0 || !/^\d+$/.test(count) || count.length > 6) throw new Error('illegal attachments');
      packet.attachments = Number(count);
      i = dash + 1;
    }
    if (text[i] === '/') {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      packet.nsp = text.slice(i, end);
      i = comma < 0 ? end : end + 1;
    }
    let digits = '';
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) digits += text[i++];
    if (digits) packet.id = Number(digits);
    if (i < text.length) packet.data = JSON.parse(text.slice(i));
    const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
    const valid =
      type === PacketType.CONNECT ? packet.data === undefined || isObject(packet.data) :
      type === PacketType.DISCONNECT ? packet.data === undefined :
      type === PacketType.CONNECT_ERROR ? isObject(packet.data) || typeof packet.data === 'string' :
      type === PacketType.ACK || type === PacketType.BINARY_ACK ? Array.isArray(packet.data) && packet.id !== undefined :
      Array.isArray(packet.data) && packet.data.length > 0 && (typeof packet.data[0] === 'string' || typeof packet.data[0] === 'number');
    if (!valid) throw new Error('invalid payload');
    return packet;
  }

  // ---- Reconnection delays: exponential, with jitter ----

  class Backoff {
    constructor(opts) {
      this.min = opts.min;
      this.max = opts.max;
      this.factor = opts.factor || 2;
      this.jitter = opts.jitter > 0 && opts.jitter <= 1 ? opts.jitter : 0;
      this.attempts = 0;
    }
    // min·factor^attempts, moved up or down by up to jitter of itself, capped at max.
    duration() {
      let ms = this.min * Math.pow(this.factor, this.attempts++);
      if (this.jitter) {
        const r = Math.random();
        const deviation = Math.floor(r * this.jitter * ms);
        ms = (Math.floor(r * 10) & 1) === 0 ? ms - deviation : ms + deviation;
      }
      return Math.min(ms, this.max) | 0;
    }
    reset() { this.attempts = 0; }
  }

  // ---- Manager: one Engine, the namespaces on it, reconnection ----

  function subscribe(emitter, event, fn) {
    emitter.on(event, fn);
    return () => emitter.off(event, fn);
  }

  class Manager extends Emitter {
    constructor(uri, opts) {
      super();
      if (uri && typeof uri === 'object') { opts = uri; uri = undefined; }
      opts = Object.assign({}, opts);
      const url = parseURL(uri);
      opts.path = opts.path || '/socket.io';
      if (opts.path[opts.path.length - 1] !== '/') opts.path += '/';
      opts.secure = url.secure;
      opts.hostname = url.hostname;
      opts.port = url.port;
      opts.query = Object.assign({}, url.query, typeof opts.query === 'string' ? parseQuery(opts.query) : opts.query);
      opts.timestampParam = opts.timestampParam || 't';
      this.uri = url.href;
      this.opts = opts;
      this.nsps = {};
      this.subs = [];
      this.reconnection(opts.reconnection !== false);
      this.reconnectionAttempts(opts.reconnectionAttempts || Infinity);
      this.reconnectionDelay(opts.reconnectionDelay || 1000);
      this.reconnectionDelayMax(opts.reconnectionDelayMax || 5000);
      this.randomizationFactor(opts.randomizationFactor == null ? 0.5 : opts.randomizationFactor);
      this.backoff = new Backoff({ min: this._reconnectionDelay, max: this._reconnectionDelayMax, jitter: this._randomizationFactor });
      this.timeout(opts.timeout == null ? 20000 : opts.timeout);
      this._readyState = 'closed';
      this.decoder = new SocketDecoder();
      this._autoConnect = opts.autoConnect !== false;
      if (this._autoConnect) this.open();
    }
    reconnection(v) { if (v === undefined) return this._reconnection; this._reconnection = !!v; if (!v) this.skipReconnect = true; return this; }
    reconnectionAttempts(v) { if (v === undefined) return this._reconnectionAttempts; this._reconnectionAttempts = v; return this; }
    reconnectionDelay(v) {
      if (v === undefined) return this._reconnectionDelay;
      this._reconnectionDelay = v;
      if (this.backoff) this.backoff.min = v;
      return this;
    }
    reconnectionDelayMax(v) {
      if (v === undefined) return this._reconnectionDelayMax;
      this._reconnectionDelayMax = v;
      if (this.backoff) this.backoff.max = v;
      return this;
    }
    randomizationFactor(v) {
      if (v === undefined) return this._randomizationFactor;
      this._randomizationFactor = v;
      if (this.backoff) this.backoff.jitter = v;
      return this;
    }
    timeout(v) { if (v === undefined) return this._timeout; this._timeout = v; return this; }

    open(fn) {
      if (this._readyState.indexOf('open') >= 0) return this;
      this.engine = new Engine(this.opts);
      const engine = this.engine;
      this._readyState = 'opening';
      this.skipReconnect = false;
      const openSub = subscribe(engine, 'open', () => {
        this.onopen();
        if (fn) fn();
      });
      const onError = (error) => {
        this.cleanup();
        this._readyState = 'closed';
        this.emitReserved('error', error);
        if (fn) fn(error); else this.maybeReconnectOnOpen();
      };
      const errorSub = subscribe(engine, 'error', onError);
      if (this._timeout !== false) {
        const timer = setTimeout(() => {
          openSub();
          onError(new Error('timeout'));
          engine.close();
        }, this._timeout);
        this.subs.push(() => clearTimeout(timer));
      }
      this.subs.push(openSub, errorSub);
      return this;
    }
    connect(fn) { return this.open(fn); }
    maybeReconnectOnOpen() {
      if (!this._reconnecting && this._reconnection && this.backoff.attempts === 0) this.reconnect();
    }
    onopen() {
      this.cleanup();
      this._readyState = 'open';
      this.emitReserved('open');
      const engine = this.engine;
      this.subs.push(
        subscribe(engine, 'ping', () => this.emitReserved('ping')),
        subscribe(engine, 'data', (data) => {
          try { this.decoder.add(data); } catch (e) { this.onclose('parse error', e); }
        }),
        subscribe(engine, 'error', (error) => this.emitReserved('error', error)),
        subscribe(engine, 'close', (reason, description) => this.onclose(reason, description)),
        subscribe(this.decoder, 'decoded', (packet) => this.emitReserved('packet', packet)));
    }
    socket(nsp, opts) {
      let socket = this.nsps[nsp];
      if (!socket) {
        socket = new Socket(this, nsp, opts);
        this.nsps[nsp] = socket;
      } else if (this._autoConnect && !socket.active) {
        socket.connect();
      }
      return socket;
    }
    // A socket left: the connection closes with the last one.
    _destroy(socket) {
      for (const nsp of Object.keys(this.nsps)) if (this.nsps[nsp].active) return;
      this._close();
    }
    _packet(packet) {
      const messages = encodeSocketPacket(packet);
      for (const message of messages) this.engine.write(message, packet.options);
    }
    cleanup() {
      this.subs.forEach((unsubscribe) => unsubscribe());
      this.subs.length = 0;
      this.decoder.destroy();
    }
    _close() {
      this.skipReconnect = true;
      this._reconnecting = false;
      clearTimeout(this.reconnectTimer);
      this.onclose('forced close');
      if (this.engine) this.engine.close();
    }
    disconnect() { return this._close(); }
    close() { return this._close(); }
    onclose(reason, description) {
      this.cleanup();
      if (this.engine) this.engine.close();
      this.backoff.reset();
      this._readyState = 'closed';
      this.emitReserved('close', reason, description);
      if (this._reconnection && !this.skipReconnect) this.reconnect();
    }
    reconnect() {
      if (this._reconnecting || this.skipReconnect) return this;
      if (this.backoff.attempts >= this._reconnectionAttempts) {
        this.backoff.reset();
        this.emitReserved('reconnect_failed');
        this._reconnecting = false;
        return this;
      }
      const delay = this.backoff.duration();
      this._reconnecting = true;
      this.reconnectTimer = setTimeout(() => {
        if (this.skipReconnect) return;
        this.emitReserved('reconnect_attempt', this.backoff.attempts);
        if (this.skipReconnect) return;
        this.open((error) => {
          if (error) {
            this._reconnecting = false;
            this.reconnect();
            this.emitReserved('reconnect_error', error);
          } else {
            const attempts = this.backoff.attempts;
            this._reconnecting = false;
            this.backoff.reset();
            this.emitReserved('reconnect', attempts);
          }
        });
      }, delay);
      return this;
    }
  }

  // ---- Socket: one namespace ----

  const RESERVED_EVENTS = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

  class Socket extends Emitter {
    constructor(manager, nsp, opts) {
      super();
      this.io = manager;
      this.nsp = nsp;
      this.connected = false;
      this.recovered = false;
      this.receiveBuffer = [];
      this.sendBuffer = [];
      this.ids = 0;
      this.acks = {};
      this.flags = {};
      this._anyListeners = [];
      this._anyOutgoingListeners = [];
      this._opts = Object.assign({}, opts);
      this.auth = this._opts.auth;
      this._pid = null;
      this._lastOffset = null;
      if (manager._autoConnect) this.open();
    }
    get disconnected() { return !this.connected; }
    get active() { return !!this.subs; }
    subEvents() {
      if (this.subs) return;
      const io = this.io;
      this.subs = [
        subscribe(io, 'open', () => this.onopen()),
        subscribe(io, 'packet', (packet) => this.onpacket(packet)),
        subscribe(io, 'error', (error) => { if (!this.connected) this.emitReserved('connect_error', error); }),
        subscribe(io, 'close', (reason, description) => this.onclose(reason, description)),
      ];
    }
    connect() {
      if (this.connected) return this;
      this.subEvents();
      if (!this.io._reconnecting) this.io.open();
      if (this.io._readyState === 'open') this.onopen();
      return this;
    }
    open() { return this.connect(); }
    send(...args) { return this.emit('message', ...args); }
    emit(event, ...args) {
      if (RESERVED_EVENTS.indexOf(event) >= 0) throw new Error('"' + event + '" is a reserved event name');
      const flags = this.flags;
      this.flags = {};
      if (this._opts.retries && !flags.fromQueue && !flags.volatile) {
        this._addToQueue([event].concat(args), flags);
        return this;
      }
      const packet = { type: PacketType.EVENT, data: [event].concat(args), options: { compress: flags.compress !== false } };
      if (typeof args[args.length - 1] === 'function') {
        const id = this.ids++;
        const ack = packet.data.pop();
        this._registerAck(id, ack, flags.timeout);
        packet.id = id;
      }
      const writable = this.io.engine && this.io.engine.transport && this.io.engine.transport.writable;
      if (flags.volatile && !(writable && this.connected)) return this;
      if (this.connected) {
        this.notifyOutgoing(packet.data);
        this.packet(packet);
      } else {
        this.sendBuffer.push(packet);
      }
      return this;
    }
    _registerAck(id, ack, flagTimeout) {
      const timeout = flagTimeout !== undefined ? flagTimeout : this._opts.ackTimeout;
      if (timeout === undefined) { this.acks[id] = ack; return; }
      const timer = setTimeout(() => {
        delete this.acks[id];
        this.sendBuffer = this.sendBuffer.filter((p) => p.id !== id);
        ack.call(this, new Error('operation has timed out'));
      }, timeout);
      const wrapped = (...args) => { clearTimeout(timer); ack.apply(this, [null].concat(args)); };
      wrapped.withError = true;
      this.acks[id] = wrapped;
    }
    emitWithAck(event, ...args) {
      const withError = this.flags.timeout !== undefined || this._opts.ackTimeout !== undefined;
      return new Promise((resolve, reject) => {
        args.push((first, second) => {
          if (!withError) return resolve(first);
          return first ? reject(first) : resolve(second);
        });
        this.emit(event, ...args);
      });
    }
    // retries: each emit waits for its ack (with ackTimeout) and is sent again up to `retries` times.
    _addToQueue(args, flags) {
      let ack;
      if (typeof args[args.length - 1] === 'function') ack = args.pop();
      const entry = { id: this.ids++, tryCount: 0, pending: false, args: args, flags: Object.assign({ fromQueue: true }, flags) };
      args.push((error, ...values) => {
        if (entry !== this._queue[0]) return;
        if (error) {
          if (entry.tryCount > this._opts.retries) {
            this._queue.shift();
            if (ack) ack(error);
          }
        } else {
          this._queue.shift();
          if (ack) ack(null, ...values);
        }
        entry.pending = false;
        this._drainQueue();
      });
      this._queue = this._queue || [];
      this._queue.push(entry);
      this._drainQueue();
    }
    _drainQueue(force) {
      if (!this.connected || !this._queue || this._queue.length === 0) return;
      const entry = this._queue[0];
      if (entry.pending && !force) return;
      entry.pending = true;
      entry.tryCount++;
      this.flags = entry.flags;
      this.emit.apply(this, entry.args);
    }
    packet(packet) {
      packet.nsp = this.nsp;
      this.io._packet(packet);
    }
    onopen() {
      const send = (data) => {
        const payload = this._pid ? Object.assign({ pid: this._pid, offset: this._lastOffset }, data) : data;
        this.packet({ type: PacketType.CONNECT, data: payload });
      };
      if (typeof this.auth === 'function') this.auth(send); else send(this.auth);
    }
    onerror(error) { if (!this.connected) this.emitReserved('connect_error', error); }
    onclose(reason, description) {
      this.connected = false;
      delete this.id;
      this.emitReserved('disconnect', reason, description);
      this._clearAcks();
    }
    // Acks that wait with an error callback learn at once that the packet may never be answered.
    _clearAcks() {
      for (const id of Object.keys(this.acks)) {
        const ack = this.acks[id];
        const stillBuffered = this.sendBuffer.some((p) => String(p.id) === id);
        if (!stillBuffered && ack.withError) {
          delete this.acks[id];
          ack.call(this, new Error('socket has been disconnected'));
        }
      }
    }
    onpacket(packet) {
      if (packet.nsp !== this.nsp) return;
      switch (packet.type) {
        case PacketType.CONNECT:
          if (packet.data && typeof packet.data.sid === 'string') {
            this.onconnect(packet.data.sid, packet.data.pid);
          } else {
            this.emitReserved('connect_error', new Error('the server answered CONNECT without a sid: is it a Socket.IO v5 server?'));
          }
          break;
        case PacketType.EVENT:
        case PacketType.BINARY_EVENT:
          this.onevent(packet);
          break;
        case PacketType.ACK:
        case PacketType.BINARY_ACK:
          this.onack(packet);
          break;
        case PacketType.DISCONNECT:
          this.ondisconnect();
          break;
        case PacketType.CONNECT_ERROR: {
          this.destroy();
          const data = packet.data;
          const error = new Error(typeof data === 'string' ? data : data.message);
          error.data = typeof data === 'object' ? data.data : undefined;
          this.emitReserved('connect_error', error);
          break;
        }
        default:
          break;
      }
    }
    onevent(packet) {
      const args = packet.data.slice();
      if (packet.id != null) args.push(this.ack(packet.id));
      if (this.connected) this.emitEvent(args); else this.receiveBuffer.push(Object.freeze(args));
    }
    emitEvent(args) {
      for (const listener of this._anyListeners.slice()) listener.apply(this, args);
      Emitter.prototype.emitReserved.apply(this, args);
      // Connection state recovery: broadcasts end with their offset.
      if (this._pid && args.length && typeof args[args.length - 1] === 'string') this._lastOffset = args[args.length - 1];
    }
    ack(id) {
      let sent = false;
      return (...args) => {
        if (sent) return;
        sent = true;
        this.packet({ type: PacketType.ACK, id: id, data: args });
      };
    }
    onack(packet) {
      const ack = this.acks[packet.id];
      if (typeof ack !== 'function') return;
      delete this.acks[packet.id];
      ack.apply(this, packet.data);
    }
    onconnect(id, pid) {
      this.id = id;
      this.recovered = !!(pid && this._pid === pid);
      this._pid = pid || null;
      this.connected = true;
      this.emitBuffered();
      this.emitReserved('connect');
      this._drainQueue(true);
    }
    emitBuffered() {
      this.receiveBuffer.forEach((args) => this.emitEvent(args));
      this.receiveBuffer = [];
      this.sendBuffer.forEach((packet) => {
        this.notifyOutgoing(packet.data);
        this.packet(packet);
      });
      this.sendBuffer = [];
    }
    ondisconnect() {
      this.destroy();
      this.onclose('io server disconnect');
    }
    destroy() {
      if (this.subs) {
        this.subs.forEach((unsubscribe) => unsubscribe());
        this.subs = undefined;
      }
      this.io._destroy(this);
    }
    disconnect() {
      if (this.connected) this.packet({ type: PacketType.DISCONNECT });
      this.destroy();
      if (this.connected) this.onclose('io client disconnect');
      return this;
    }
    close() { return this.disconnect(); }
    compress(compress) { this.flags.compress = compress; return this; }
    get volatile() { this.flags.volatile = true; return this; }
    timeout(ms) { this.flags.timeout = ms; return this; }
    onAny(fn) { this._anyListeners.push(fn); return this; }
    prependAny(fn) { this._anyListeners.unshift(fn); return this; }
    offAny(fn) {
      if (!fn) this._anyListeners = [];
      else this._anyListeners = this._anyListeners.filter((l) => l !== fn);
      return this;
    }
    listenersAny() { return this._anyListeners.slice(); }
    onAnyOutgoing(fn) { this._anyOutgoingListeners.push(fn); return this; }
    prependAnyOutgoing(fn) { this._anyOutgoingListeners.unshift(fn); return this; }
    offAnyOutgoing(fn) {
      if (!fn) this._anyOutgoingListeners = [];
      else this._anyOutgoingListeners = this._anyOutgoingListeners.filter((l) => l !== fn);
      return this;
    }
    listenersAnyOutgoing() { return this._anyOutgoingListeners.slice(); }
    notifyOutgoing(data) {
      for (const listener of this._anyOutgoingListeners.slice()) listener.apply(this, data);
    }
  }

  // ---- io(): URL handling and the Manager cache ----

  function parseQuery(text) {
    const query = {};
    for (const part of String(text).replace(/^\?/, '').split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      query[key] = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    }
    return query;
  }

  // As the official client: no URL is the page's origin; "/nsp" and "//host" are relative to the page.
  function parseURL(uri) {
    const loc = global.location;
    const base = loc && /^https?:$/.test(loc.protocol) ? loc.protocol + '//' + loc.host : 'https://localhost';
    let text = uri == null ? '' : String(uri);
    if (text === '') text = base;
    else if (text.slice(0, 2) === '//') text = base.split('//')[0] + text;
    else if (text[0] === '/') text = base + text;
    else if (!/^(https?|wss?):\/\//.test(text)) text = base.split('//')[0] + '//' + text;
    const url = new URL(text);
    if (url.protocol === 'ws:') url.protocol = 'http:';
    if (url.protocol === 'wss:') url.protocol = 'https:';
    const secure = url.protocol === 'https:';
    const port = url.port || (secure ? '443' : '80');
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    return {
      secure: secure, hostname: hostname, port: port, path: url.pathname || '/', query: parseQuery(url.search),
      id: url.protocol + '//' + url.hostname + ':' + port, href: url.href,
    };
  }

  const cache = {};

  /** io(url?, options?): a Socket for the URL's namespace, on a shared Manager unless told otherwise. */
  function lookup(uri, opts) {
    if (uri && typeof uri === 'object') { opts = uri; uri = undefined; }
    opts = opts || {};
    const url = parseURL(uri);
    const nsp = io.namespaceOf(url.path);
    const key = url.id + (opts.path || '/socket.io');
    const same = cache[key] && nsp in cache[key].nsps;
    const fresh = opts.forceNew || opts['force new connection'] || opts.multiplex === false || same;
    let manager;
    if (fresh) {
      manager = new Manager(url.href, opts);
    } else {
      if (!cache[key]) cache[key] = new Manager(url.href, opts);
      manager = cache[key];
    }
    return manager.socket(nsp, opts);
  }

  const io = Object.assign(lookup, {
    Manager: Manager, Socket: Socket, Engine: Engine, protocol: 5, connect: lookup, io: lookup, default: lookup,
    managers: cache,
    // The URL's path is the namespace ("http://host/admin" → "/admin"), without a trailing "/".
    namespaceOf: (path) => (path.length > 1 && path[path.length - 1] === '/' ? path.slice(0, -1) : path) || '/',
  });
  global.io = io;
})(typeof globalThis !== 'undefined' ? globalThis : typeof window !== 'undefined' ? window : this);
