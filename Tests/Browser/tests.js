// Drives a socket.io browser client (global `io`, from socket.io.min.js: the official one or ours) against
// sio-echo or python-socketio and reports every result to the page's own origin (run_browser_tests.py):
// POST /plan, /result per test, /done.
// The page is served from another port than sio-echo, so polling runs cross-origin (CORS).
"use strict";

const params = new URLSearchParams(location.search);
const SERVER = params.get("server"); // e.g. http://127.0.0.1:1234
const STEP_TIMEOUT = Number(params.get("stepTimeout") || 10000);
const RECOVERY = params.get("recovery") !== "0"; // the server keeps sessions (python-socketio does not)
// python-engineio's aiohttp driver reads a polling POST body with one read(length), which returns only what has
// arrived (a body over about 64 KB is cut and fails to decode): 32 KB there.
const LARGE_KB = Number(params.get("largeKB") || 300);
const AUTH = { token: "browser-token", n: 42, nested: { list: [1, "two", null] } };
const TEXT_ARGS = [1, "two", { three: [3, true, null] }, "h\u00e9llo \ud83c\udf0d"];

// Each configuration is one Manager (one Engine.IO connection) with "/" and "/custom" multiplexed on it.
const CONFIGS = [
    { name: "default", options: {}, initial: "polling", final: "websocket" },
    { name: "websocket-only", options: { transports: ["websocket"] }, initial: "websocket", final: "websocket" },
    { name: "polling-only", options: { transports: ["polling"] }, initial: "polling", final: "polling" },
];

function log(message) {
    document.getElementById("log").textContent += message + "\n";
}

async function post(path, body) {
    try {
        await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    } catch (error) {
        log(`report to ${path} failed: ${error}`);
    }
}

window.addEventListener("error", (event) => post("/log", { message: `uncaught error: ${event.message}` }));
window.addEventListener("unhandledrejection", (event) => post("/log", { message: `unhandled rejection: ${event.reason}` }));

function fail(message) {
    throw new Error(message);
}

function withTimeout(promise, what, ms = STEP_TIMEOUT) {
    let timer;
    const timeout = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The arguments of the next `event` on `emitter`; register before triggering it.
function nextEvent(emitter, event, ms = STEP_TIMEOUT) {
    return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), `"${event}"`, ms);
}

function isBinary(value) {
    return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

function bytesOf(value) {
    return value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

// Structural equality; any binary (ArrayBuffer or typed array) equals any other with the same bytes.
function deepEqual(a, b) {
    if (isBinary(a) || isBinary(b)) {
        if (!isBinary(a) || !isBinary(b)) return false;
        const x = bytesOf(a), y = bytesOf(b);
        if (x.length !== y.length) return false;
        for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
        return true;
    }
    if (Array.isArray(a) || Array.isArray(b)) {
        return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
    }
    if (a && b && typeof a === "object" && typeof b === "object") {
        const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
        return deepEqual(ka, kb) && ka.every((k) => deepEqual(a[k], b[k]));
    }
    return a === b;
}

function describe(value) {
    return JSON.stringify(value, (_, v) => (isBinary(v) ? `<${bytesOf(v).length} bytes: ${Array.from(bytesOf(v).slice(0, 8))}...>` : v));
}

function expectEqual(actual, expected, what) {
    if (!deepEqual(actual, expected)) fail(`${what}: got ${describe(actual)}, expected ${describe(expected)}`);
}

function expectArrayBuffers(value, what) {
    // The browser client hands received binary over as ArrayBuffer.
    const walk = (v) => {
        if (isBinary(v)) { if (!(v instanceof ArrayBuffer)) fail(`${what}: binary arrived as ${v.constructor.name}, not ArrayBuffer`); }
        else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(value);
}

function randomBytes(count) {
    const bytes = new Uint8Array(count);
    for (let offset = 0; offset < count; offset += 65536) {
        crypto.getRandomValues(bytes.subarray(offset, Math.min(count, offset + 65536)));
    }
    return bytes;
}

// Echo checks shared by both namespaces.
async function checkMessageBack(socket) {
    const back = nextEvent(socket, "message-back");
    socket.emit("message", ...TEXT_ARGS);
    expectEqual(await back, TEXT_ARGS, "message-back");
}

async function checkAckCallback(socket) {
    const answer = withTimeout(new Promise((resolve) => socket.emit("message-with-ack", ...TEXT_ARGS, (...args) => resolve(args))), "the ack");
    expectEqual(await answer, TEXT_ARGS, "ack arguments");
}

async function checkBinaryBack(socket) {
    const payload = [Uint8Array.from([0, 1, 2, 253, 254, 255]), { nested: Uint8Array.from([7, 8, 9]).buffer, list: ["text", new Uint8Array(0)] }];
    const back = nextEvent(socket, "message-back");
    socket.emit("message", ...payload);
    const got = await back;
    expectEqual(got, payload, "binary message-back");
    expectArrayBuffers(got, "binary message-back");
}

// The steps of one configuration, in order; `needs` names the socket that must be connected first
// (a step whose socket is not connected fails at once instead of waiting for its timeout).
const STEPS = [
    { name: "connect /", run: async (c) => {
        await c.connected.main;
        if (!c.main.id) fail("connected without a socket id");
    } },
    { name: "auth echo /", needs: "main", run: async (c) => expectEqual(await c.auth.main, [AUTH], "auth event") },
    { name: "transport", needs: "main", run: async (c) => {
        if (c.initialTransport !== c.config.initial) fail(`opened on ${c.initialTransport}, expected ${c.config.initial}`);
        if (c.config.final !== c.config.initial) {
            if (c.upgrades === 0) await nextEvent(c.manager.engine, "upgrade");
            if (c.upgrades !== 1) fail(`${c.upgrades} upgrades`);
        } else {
            // Give an unwanted upgrade a moment to show up.
            await new Promise((resolve) => setTimeout(resolve, 300));
            if (c.upgrades > 0) fail(`upgraded ${c.upgrades} time(s) though only ${c.config.initial} is allowed`);
        }
        const name = c.manager.engine.transport.name;
        if (name !== c.config.final) fail(`transport is ${name}, expected ${c.config.final}`);
    } },
    { name: "message-back /", needs: "main", run: (c) => checkMessageBack(c.main) },
    { name: "ack callback /", needs: "main", run: (c) => checkAckCallback(c.main) },
    { name: "emitWithAck /", needs: "main", run: async (c) => {
        const answer = await withTimeout(c.main.timeout(STEP_TIMEOUT).emitWithAck("message-with-ack", { single: "value" }), "emitWithAck");
        expectEqual(answer, { single: "value" }, "emitWithAck result");
    } },
    { name: "binary message-back /", needs: "main", run: (c) => checkBinaryBack(c.main) },
    { name: "binary ack /", needs: "main", run: async (c) => {
        const sent = new Float64Array([Math.PI, -0.5, 1e300]);
        const answer = await withTimeout(c.main.timeout(STEP_TIMEOUT).emitWithAck("message-with-ack", sent.buffer), "emitWithAck");
        if (!(answer instanceof ArrayBuffer)) fail(`ack carried ${describe(answer)}, not an ArrayBuffer`);
        expectEqual(Array.from(new Float64Array(answer)), Array.from(sent), "binary ack");
    } },
    { name: "large binary /", needs: "main", run: async (c) => {
        const big = randomBytes(LARGE_KB * 1024);
        const back = nextEvent(c.main, "message-back");
        c.main.emit("message", "big", big);
        const got = await back;
        if (got.length !== 2 || got[0] !== "big") fail(`unexpected arguments ${describe(got)}`);
        expectEqual(got[1], big, "large binary");
    } },
    { name: "server asks client with ack /", needs: "main", run: async (c) => {
        // sio-echo emits `emit-with-ack` with our arguments and an ack, then emits our answer back.
        const result = withTimeout(new Promise((resolve) => {
            const handler = (...args) => {
                if (typeof args[args.length - 1] === "function") {
                    const ack = args.pop();
                    ack(...args, "answered", Uint8Array.from([42]));
                } else {
                    c.main.off("emit-with-ack", handler);
                    resolve(args);
                }
            };
            c.main.on("emit-with-ack", handler);
        }), "the answer");
        c.main.emit("emit-with-ack", "question", 1);
        expectEqual(await result, ["question", 1, "answered", Uint8Array.from([42])], "answer");
    } },
    { name: "connect /custom", run: async (c) => {
        await c.connected.custom;
        if (c.custom.io !== c.manager) fail("/custom got its own Manager");
    } },
    { name: "auth echo /custom", needs: "custom", run: async (c) => expectEqual(await c.auth.custom, [{ space: "custom" }], "auth event") },
    { name: "message-back /custom", needs: "custom", run: (c) => checkMessageBack(c.custom) },
    { name: "ack callback /custom", needs: "custom", run: (c) => checkAckCallback(c.custom) },
    { name: "binary message-back /custom", needs: "custom", run: (c) => checkBinaryBack(c.custom) },
    { name: "heartbeats", needs: "main", run: async (c) => {
        // sio-echo runs with a short ping interval: two pings must be answered without a disconnect.
        const target = c.pings + 2;
        await withTimeout(new Promise((resolve) => {
            const check = () => { if (c.pings >= target) { c.manager.engine.off("ping", check); resolve(); } };
            c.manager.engine.on("ping", check);
        }), "two pings");
        if (!c.main.connected || !c.custom.connected) fail("a socket dropped during heartbeats");
    } },
    { name: "no unexpected disconnects", run: async (c) => {
        if (c.disconnects.length) fail(`disconnects: ${c.disconnects.join(", ")}`);
        if (c.connectErrors.length) fail(`connect errors: ${c.connectErrors.join(", ")}`);
    } },
    { name: "server disconnect /", needs: "main", run: async (c) => {
        const reason = nextEvent(c.main, "disconnect");
        c.main.emit("server-disconnect");
        const [why] = await reason;
        if (why !== "io server disconnect") fail(`disconnect reason ${why}`);
        if (!c.custom.connected) fail("/custom went down with /");
    } },
    { name: "client disconnect /custom", needs: "custom", run: async (c) => {
        const reason = nextEvent(c.custom, "disconnect");
        c.custom.disconnect();
        const [why] = await reason;
        if (why !== "io client disconnect") fail(`disconnect reason ${why}`);
    } },
];

async function runConfig(config) {
    const manager = new io.Manager(SERVER, { ...config.options, autoConnect: false, reconnection: false, timeout: STEP_TIMEOUT });
    const c = { config, manager, initialTransport: null, upgrades: 0, pings: 0, disconnects: [], connectErrors: [] };
    manager.on("open", () => {
        c.initialTransport = manager.engine.transport.name;
        manager.engine.on("upgrade", () => c.upgrades++);
        manager.engine.on("ping", () => c.pings++);
    });
    c.main = manager.socket("/", { auth: AUTH });
    c.custom = manager.socket("/custom", { auth: { space: "custom" } });
    c.connected = {};
    c.auth = {};
    for (const [key, socket] of [["main", c.main], ["custom", c.custom]]) {
        c.auth[key] = nextEvent(socket, "auth");
        c.auth[key].catch(() => {});
        c.connected[key] = withTimeout(new Promise((resolve, reject) => {
            socket.once("connect", resolve);
            socket.once("connect_error", (error) => reject(new Error(`connect_error: ${error.message}`)));
        }), `${socket.nsp} to connect`);
        c.connected[key].catch(() => {});
        socket.on("connect_error", (error) => c.connectErrors.push(`${socket.nsp}: ${error.message}`));
        socket.on("disconnect", (reason) => { if (!c.expectDisconnect) c.disconnects.push(`${socket.nsp}: ${reason}`); });
        socket.connect();
    }
    for (const step of STEPS) {
        const name = `${config.name}: ${step.name}`;
        const started = performance.now();
        let ok = true, detail = "";
        try {
            if (step.name.startsWith("server disconnect")) c.expectDisconnect = true;
            if (step.needs && !c[step.needs].connected) fail(`skipped: ${c[step.needs].nsp} is not connected`);
            await step.run(c);
        } catch (error) {
            ok = false;
            detail = error && error.message ? error.message : String(error);
        }
        const ms = Math.round(performance.now() - started);
        log(`${ok ? "PASS" : "FAIL"} ${name} (${ms} ms) ${detail}`);
        await post("/result", { name, ok, detail, ms });
    }
    manager.engine && manager.engine.close();
}

// Connection state recovery (sio-echo runs with --connection-state-recovery): a socket whose WebSocket is cut
// comes back with its id and gets the broadcasts sent to it while it was away, in order.
const RECOVERY_TESTS = [
    { name: "recovery: websocket cut, missed broadcasts replayed", run: async () => {
        const options = { forceNew: true, transports: ["websocket"], reconnection: false, timeout: STEP_TIMEOUT };
        const main = io(SERVER, options);
        const helper = io(SERVER, options);
        try {
            await Promise.all([nextEvent(main, "connect"), nextEvent(helper, "connect")]);
            if (main.recovered) fail("recovered on a first connection");
            const id = main.id;
            // One live broadcast gives the client an offset: the offset is its last argument.
            const live = nextEvent(main, "before");
            await withTimeout(helper.emitWithAck("to-room", id, "before", "live"), "to-room ack");
            const liveArgs = await live;
            if (liveArgs.length !== 2 || liveArgs[0] !== "live" || typeof liveArgs[1] !== "string") {
                fail(`live broadcast arguments ${describe(liveArgs)}`);
            }
            // A network blip: the WebSocket goes away without a DISCONNECT packet.
            const gone = nextEvent(main, "disconnect");
            main.io.engine.close();
            await gone;
            // The server learns of the cut when the WebSocket's TCP connection closes, a moment after the
            // client: wait for it (the session is kept from then on), as a real outage lasts longer anyway.
            await withTimeout((async () => {
                while ((await helper.emitWithAck("count-room", id)) !== 0) await new Promise((r) => setTimeout(r, 10));
            })(), "the server to see the socket leave");
            const received = [];
            main.on("missed", (value) => received.push(value));
            for (const value of [1, 2, 3]) await withTimeout(helper.emitWithAck("to-room", id, "missed", value), "to-room ack");
            const back = nextEvent(main, "connect");
            main.connect();
            await back;
            if (!main.recovered) fail("socket.recovered is false after reconnecting");
            if (main.id !== id) fail(`id changed from ${id} to ${main.id}`);
            await withTimeout(new Promise((resolve) => {
                const check = () => (received.length >= 3 ? resolve() : setTimeout(check, 10));
                check();
            }), "three missed broadcasts");
            expectEqual(received, [1, 2, 3], "missed broadcasts");
            // Still in its room: a live broadcast arrives.
            const after = nextEvent(main, "after");
            await withTimeout(helper.emitWithAck("to-room", id, "after", "again"), "to-room ack");
            const afterArgs = await after;
            if (afterArgs[0] !== "again") fail(`after recovery: ${describe(afterArgs)}`);
        } finally {
            main.disconnect();
            helper.disconnect();
        }
    } },
    { name: "recovery: a deliberate disconnect is not recovered", run: async () => {
        const options = { forceNew: true, transports: ["websocket"], reconnection: false, timeout: STEP_TIMEOUT };
        const main = io(SERVER, options);
        try {
            await nextEvent(main, "connect");
            const id = main.id;
            const live = nextEvent(main, "before");
            await withTimeout(main.emitWithAck("to-room", id, "before", 1), "to-room ack");
            await live;
            main.disconnect();
            const back = nextEvent(main, "connect");
            main.connect();
            await back;
            if (main.recovered) fail("recovered after io client disconnect");
            if (main.id === id) fail("same id after io client disconnect");
        } finally {
            main.disconnect();
        }
    } },
];

async function runRecovery() {
    for (const test of RECOVERY_TESTS) {
        const started = performance.now();
        let ok = true, detail = "";
        try {
            await test.run();
        } catch (error) {
            ok = false;
            detail = error && error.message ? error.message : String(error);
        }
        const ms = Math.round(performance.now() - started);
        log(`${ok ? "PASS" : "FAIL"} ${test.name} (${ms} ms) ${detail}`);
        await post("/result", { name: test.name, ok, detail, ms });
    }
}

async function main() {
    const plan = CONFIGS.flatMap((config) => STEPS.map((step) => `${config.name}: ${step.name}`))
        .concat(RECOVERY ? RECOVERY_TESTS.map((test) => test.name) : []);
    const loaded = typeof io !== "undefined";
    await post("/plan", { tests: plan, client: loaded ? `socket.io protocol ${io.protocol}` : "not loaded" });
    try {
        if (!loaded) fail("socket.io.min.js did not define io");
        if (!SERVER) fail("no ?server= parameter");
        for (const config of CONFIGS) await runConfig(config);
        if (RECOVERY) await runRecovery();
    } catch (error) {
        await post("/log", { message: `uncaught error: ${error && error.message ? error.message : error}` });
    }
    await post("/done", {});
}

main();
