import CEngineIOShims
import Glibc

/// Receives what happens on a connection. Called on the connection's loop thread only.
public protocol ConnectionHandler: AnyObject {
    /// New bytes arrived; consume what forms complete messages and leave the rest in `buffer`.
    func connectionRead(_ connection: TCPConnection, _ buffer: inout ByteBuffer)
    /// Output that had piled up past the high-water mark has drained below the low-water mark.
    func connectionWritable(_ connection: TCPConnection)
    /// The connection is closed (by either side); `error` is the errno of a failure, nil for a clean end.
    func connectionClosed(_ connection: TCPConnection, error: Int32?)
}

extension ConnectionHandler {
    /// Default: nothing to do when the output drained.
    public func connectionWritable(_ connection: TCPConnection) {}
}

/// A non-blocking TCP connection owned by one event loop.
///
/// Writes are appended to one outbound buffer and sent once at the end of the loop iteration, which turns
/// many small messages into one `send`. When more than `highWaterMark` bytes wait, reading stops until the
/// peer catches up. A peer that stops reading altogether is cut off: once the kernel refuses bytes, what is
/// written after that counts against `maxBackpressure` and the loop group's `OutputBudget`.
public final class TCPConnection: EventLoopHandler, EventLoopFlushable, @unchecked Sendable {
    // Invariant for @unchecked Sendable: all state is touched on `loop`'s thread only. Other threads hop
    // there with `loop.execute`. Stored properties opt out of dynamic exclusivity checks (they cost more than
    // the rest of a message's handling): no access to them is held across a call that could re-enter.

    /// The loop that owns this connection; it changes only through `migrate(to:)`.
    @inlinable public var loop: EventLoop { self.owningLoop }
    // Stored apart from `loop`, as `closed` is (see there): other modules read it on every new connection.
    @usableFromInline @exclusivity(unchecked) var owningLoop: EventLoop {
        didSet { self.openLoop = self.owningLoop }
    }
    /// `loop` without reference counting, for the write path (a strong read retains and releases it around
    /// each call). Read only while the connection is open: an open connection's loop is running, and its
    /// group holds a running loop.
    @usableFromInline @exclusivity(unchecked) unowned(unsafe) var openLoop: EventLoop
    /// The peer's address.
    public var remoteAddress: SocketAddress { self.peer.address }
    private let peer: CompactSocketAddress
    /// The peer's address as text (`127.0.0.1`, `::1`), computed once (it costs a `getnameinfo`).
    public var remoteHost: String {
        if let host = self.cachedRemoteHost { return host }
        let host = self.remoteAddress.host
        self.cachedRemoteHost = host
        return host
    }
    @exclusivity(unchecked) private var cachedRemoteHost: String?
    /// Who receives the reads; replace it to hand the connection to another protocol (WebSocket upgrade).
    public var handler: ConnectionHandler? {
        get { self.receiver }
        set { self.receiver = newValue }
    }
    // Stored apart from `handler`, as `closed` is: every server sets it on each new connection and upgrade.
    @exclusivity(unchecked) private var receiver: ConnectionHandler?
    /// Output above this many bytes pauses reading (back-pressure); never more than half of `maxBackpressure`.
    @exclusivity(unchecked) public var highWaterMark = 4 * 1024 * 1024 {
        didSet { self.pauseMark = Self.pauseMark(self.highWaterMark, self.maxBackpressure) }
    }
    /// Most bytes written after the kernel stopped taking them (the peer's backlog) before the connection is
    /// closed with `ENOBUFS`. What was queued when the kernel stopped (one large message, the output of one
    /// loop iteration) does not count, and the largest single write of the backlog is allowed on top, so one
    /// message of any size reaches a peer that reads. Servers set their own cap
    /// (`HTTPServerConfiguration.maxBackpressure`, default 1 MiB); 0 or less means no cap.
    public var maxBackpressure: Int {
        get { self.backpressureCap }
        set {
            self.backpressureCap = newValue
            self.pauseMark = Self.pauseMark(self.highWaterMark, newValue)
        }
    }
    // Stored apart from `maxBackpressure`: another module setting a stored property gets a dynamic
    // exclusivity check (see `closed`), and every server sets it on each new connection.
    @exclusivity(unchecked) private var backpressureCap = 64 * 1024 * 1024
    /// More bytes than this waiting makes the connection `isCongested` even before the kernel refused any.
    @exclusivity(unchecked) public var softBacklogMark = 64 * 1024

    let fd: Int32
    @exclusivity(unchecked) private var readBuffer = ByteBuffer()
    @usableFromInline @exclusivity(unchecked) var outbound: [UInt8] = []
    @usableFromInline @exclusivity(unchecked) var outboundStart = 0
    /// `outbound` is an array other connections send too (`writeShared`), adopted by reference: it is never
    /// appended to nor given to the loop's pool of buffers.
    @usableFromInline @exclusivity(unchecked) var outboundShared = false
    @exclusivity(unchecked) private var flushScheduled = false
    @exclusivity(unchecked) private var wantsWritable = false
    @exclusivity(unchecked) private var readingPausedByPressure = false
    @exclusivity(unchecked) private var readingPausedByUser = false
    /// Reading stopped because this connection's input fed a loop that is behind (LoopLag.swift).
    @exclusivity(unchecked) private(set) var readingPausedByLag = false
    @usableFromInline @exclusivity(unchecked) var closeAfterFlush = false
    @exclusivity(unchecked) private var lingering = false
    @exclusivity(unchecked) private var lingerTimer: LoopTimer?
    /// True once the connection is closed (by either side).
    @inlinable public var isClosed: Bool { self.closed }
    // Stored apart from `isClosed`: another module reading a public stored property gets a dynamic
    // exclusivity check (`swift_beginAccess`, ~80 instructions per read) that `@exclusivity(unchecked)` only
    // removes inside this module; the WebSocket path reads it several times per message.
    @usableFromInline @exclusivity(unchecked) var closed = false
    /// The TLS layer of a connection accepted by a TLS listener (see TCPConnection+TLS.swift).
    @exclusivity(unchecked) var tls: TLSServerSession?
    /// `highWaterMark`, lowered to half the cap so that a writer that waits for `isWritable` stays under it.
    @exclusivity(unchecked) private var pauseMark = 4 * 1024 * 1024
    /// Bytes that were waiting when the kernel started refusing (shrinks as they go out); not part of the
    /// backlog the cap applies to.
    @exclusivity(unchecked) private var backlogBase = 0
    /// The largest single write since the kernel started refusing, allowed on top of the cap.
    @exclusivity(unchecked) private var backlogLargestWrite = 0
    /// Bytes this connection added to its loop's backlog count.
    @exclusivity(unchecked) var accountedBacklog = 0
    /// Position in the loop's list of connections that are behind; -1 when not in it.
    @exclusivity(unchecked) var backlogIndex = -1
    /// The listener's count this connection is part of, given back on close (see `ConnectionLimits`).
    @exclusivity(unchecked) var admission: (counter: ConnectionAdmission, ticket: AdmissionTicket)?

    init(fd: Int32, loop: EventLoop, remoteAddress: SocketAddress) {
        self.fd = fd
        self.owningLoop = loop
        self.openLoop = loop
        self.peer = CompactSocketAddress(remoteAddress)
    }

    /// Starts receiving events; called once by whoever created the connection, on `loop`.
    func start() throws(EventLoopError) {
        try self.loop.register(fd: self.fd, events: self.eventMask, handler: self)
    }

    /// Bytes accepted by `write` and not yet handed to the kernel.
    @inlinable public var pendingOutputBytes: Int { self.outbound.count - self.outboundStart }

    /// False while output is above the high-water mark.
    public var isWritable: Bool { self.pendingOutputBytes < self.pauseMark }

    /// True while the peer is behind: the kernel refused bytes at the last send, or more than
    /// `softBacklogMark` bytes wait. Volatile messages are dropped then (Node's `transport.writable`).
    public var isCongested: Bool { self.wantsWritable || self.pendingOutputBytes > self.softBacklogMark }

    private static func pauseMark(_ highWaterMark: Int, _ cap: Int) -> Int {
        cap > 0 ? min(highWaterMark, max(1, cap / 2)) : highWaterMark
    }

    // MARK: Writing

    /// Queues bytes; they are sent at the end of the current loop iteration.
    @inlinable public func write(_ bytes: UnsafeRawBufferPointer) {
        guard !self.isClosed, !self.closeAfterFlush else { return }
        if self.outboundShared { self.unshareOutbound() }
        if self.outbound.capacity == 0 { self.outbound = self.openLoop.takeBuffer() }
        // As typed bytes: appending raw bytes copies them one at a time, typed ones with one memcpy.
        bytes.withMemoryRebound(to: UInt8.self) { self.outbound.append(contentsOf: $0) }
        self.didQueueOutput()
    }

    /// Queues bytes; they are sent at the end of the current loop iteration.
    @inlinable public func write(_ bytes: [UInt8]) {
        guard !self.isClosed, !self.closeAfterFlush else { return }
        if self.outboundShared { self.unshareOutbound() }
        if self.outbound.isEmpty && self.outboundStart == 0 && bytes.count > EventLoop.maxSpareBufferCapacity {
            // A big write is adopted without a copy (it never goes back to the loop's pool of small buffers).
            self.outbound = bytes
        } else {
            if self.outbound.capacity == 0 { self.outbound = self.loop.takeBuffer() }
            self.outbound.append(contentsOf: bytes)
        }
        self.didQueueOutput()
    }

    /// Queues bytes that other connections send too (a broadcast's frame): adopted by reference when
    /// nothing else waits to be sent, so that each recipient costs a retain instead of a buffer and a copy;
    /// appended after what waits otherwise. Sent at the end of the current loop iteration.
    public func writeShared(_ bytes: [UInt8]) {
        guard !self.isClosed, !self.closeAfterFlush, !bytes.isEmpty else { return }
        if self.outbound.capacity == 0 && self.outboundStart == 0 && self.tls == nil {
            self.outbound = bytes
            self.outboundShared = true
            self.didQueueOutput()
            return
        }
        bytes.withUnsafeBytes { self.write($0) }
    }

    /// Replaces an adopted shared array by a buffer of this connection's own holding its unsent bytes, before
    /// anything is appended (cold: only when a shared write is followed by another in the same iteration).
    @usableFromInline @inline(never) func unshareOutbound() {
        var own = self.loop.takeBuffer()
        own.append(contentsOf: self.outbound[self.outboundStart...])
        self.outbound = own
        self.outboundStart = 0
        self.outboundShared = false
    }

    /// Lets a codec append its encoding straight into the outbound buffer, with no temporary array.
    @inlinable public func withOutboundBuffer(_ body: (inout [UInt8]) -> Void) {
        guard !self.isClosed, !self.closeAfterFlush else { return }
        if self.outboundShared { self.unshareOutbound() }
        // The buffer is moved out for the call (the property has no dynamic exclusivity check): a body that
        // writes to this connection again appends to the emptied property, which is added after its output.
        var out: [UInt8] = []
        swap(&out, &self.outbound)
        if out.capacity == 0 { out = self.loop.takeBuffer() }
        body(&out)
        if !self.outbound.isEmpty { out.append(contentsOf: self.outbound) }
        self.outbound = out
        self.didQueueOutput()
    }

    @usableFromInline func didQueueOutput() {
        // A peer that is behind gets its bytes when the kernel reports room (EPOLLOUT): a send now would fail.
        if !self.flushScheduled && !self.wantsWritable {
            self.flushScheduled = true
            // Only writes of an open connection get here.
            self.openLoop.scheduleFlush(self)
        }
        let pending = self.pendingOutputBytes
        // Only a peer that is already behind is checked here; the others are looked at when flushed.
        if self.backlogIndex >= 0 && self.chargeBacklog(pending) { return }
        if pending >= self.pauseMark && !self.readingPausedByPressure {
            self.readingPausedByPressure = true
            self.updateInterest()
        }
    }

    /// Sends queued output now (normally called by the loop at the end of an iteration).
    package func flushNow() {
        guard self.loop.inEventLoop else { return }
        self.flushOwned(by: self.loop)
    }

    /// `flushNow` from `loop`'s end-of-iteration flush, on its thread: the owner check is an identity test,
    /// and the loop is used as the caller holds it (no thread id read, no retain of the property).
    package func flush(from loop: EventLoop) {
        // A connection that migrated may still sit in its old loop's flush queue: only its owner flushes.
        guard loop === self.loop else { return }
        self.flushOwned(by: loop)
    }

    /// The flush, on the thread of `loop`, which is `self.loop`.
    private func flushOwned(by loop: EventLoop) {
        self.flushScheduled = false
        guard !self.isClosed else { return }
        if let tls = self.tls, !self.sealOutput(tls) {
            self.close(error: EPROTO)
            return
        }
        while self.outboundStart < self.outbound.count {
            let sent = self.outbound.withUnsafeBytes { raw -> Int in
                send(self.fd, raw.baseAddress! + self.outboundStart, raw.count - self.outboundStart, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                self.outboundStart += sent
                continue
            }
            let err = errno
            if sent < 0 && err == EINTR { continue }
            if sent < 0 && (err == EAGAIN || err == EWOULDBLOCK) { break }
            self.close(error: err)
            return
        }
        // Everything still unsent was sealed above; plaintext written from here on follows it.
        self.tls?.unsentCipherBytes = self.outbound.count - self.outboundStart
        let drained = self.outboundStart >= self.outbound.count
        if drained {
            // Give the buffer back to the loop: idle connections hold no output memory, and the next writer
            // on this loop reuses it. A shared array is only let go of.
            if self.outboundShared {
                self.outbound = []
                self.outboundShared = false
            } else {
                loop.recycle(&self.outbound)
            }
            self.outboundStart = 0
        } else if !self.outboundShared && self.outboundStart > 64 * 1024 && self.outboundStart * 2 > self.outbound.count {
            self.outbound.removeSubrange(0..<self.outboundStart)
            self.outboundStart = 0
        }
        let wantsWritable = !drained
        var changed = wantsWritable != self.wantsWritable
        self.wantsWritable = wantsWritable
        if wantsWritable {
            if self.backlogIndex < 0 {
                // The kernel just started refusing: what waits now is not backlog, what comes next is.
                self.backlogBase = self.pendingOutputBytes
                self.backlogLargestWrite = 0
                loop.backlog.add(self)
                loop.backlog.charge(self.backlogBase - self.accountedBacklog)
                self.accountedBacklog = self.backlogBase
            } else {
                self.backlogBase = min(self.backlogBase, self.pendingOutputBytes)
            }
            if self.chargeBacklog(self.pendingOutputBytes) { return }
        } else if self.backlogIndex >= 0 {
            loop.backlog.remove(self)
        }
        if self.readingPausedByPressure && self.pendingOutputBytes < self.pauseMark / 2 {
            self.readingPausedByPressure = false
            changed = true
            self.handler?.connectionWritable(self)
        }
        if changed && !self.isClosed { self.updateInterest() }
        if drained && self.closeAfterFlush && !self.lingering && !self.isClosed {
            self.beginLingeringClose()
        }
    }

    /// Counts `pending` against the cap and the loop's budget; true when that closed the connection.
    /// Called only while the peer is behind (never on the path of a peer that keeps up).
    @inline(never)
    private func chargeBacklog(_ pending: Int) -> Bool {
        let backlog = self.loop.backlog
        let added = pending - self.accountedBacklog
        backlog.charge(added)
        self.accountedBacklog = pending
        // Between two charges on the write path, `added` is the one write that came in.
        self.backlogLargestWrite = max(self.backlogLargestWrite, added)
        if self.maxBackpressure > 0 && pending - self.backlogBase > self.maxBackpressure + self.backlogLargestWrite {
            self.close(error: ENOBUFS)
            return true
        }
        if backlog.isOverBudget {
            backlog.shed()
            return self.isClosed
        }
        return false
    }

    // MARK: Reading control

    /// Whether bytes read from the peer wait in the read buffer (a handler left them there).
    public var hasBufferedInput: Bool { !self.readBuffer.isEmpty }

    /// Offers bytes still waiting in the read buffer to the handler again, e.g. pipelined requests held
    /// back while an earlier one was answered.
    public func reparseBufferedInput() {
        guard !self.isClosed, !self.readBuffer.isEmpty else { return }
        self.deliverInput(appending: nil)
    }

    /// Hands the read buffer to the handler as a local: a handler may close this connection or ask for a
    /// re-parse while it holds the buffer, and neither may touch the stored property during that access.
    func deliverInput(appending bytes: UnsafeRawBufferPointer?) {
        self.deliverInput(appending: bytes, loop: self.loop)
    }

    /// `deliverInput(appending:)` with the connection's loop as the caller holds it (no retain of the property).
    func deliverInput(appending bytes: UnsafeRawBufferPointer?, loop: EventLoop) {
        var buffer = ByteBuffer()
        swap(&buffer, &self.readBuffer)
        if let bytes {
            // An empty buffer borrows the loop's spare storage: no malloc and free per read, and the bytes
            // land in memory that is still in cache from the previous read.
            if buffer.storage.capacity == 0 { loop.takeReadStorage(into: &buffer, forReadOf: bytes.count) }
            buffer.append(contentsOf: bytes)
        }
        self.handler?.connectionRead(self, &buffer)
        guard !self.isClosed else { return }
        buffer.discardReadBytes()
        if buffer.isEmpty {
            // The handler may have moved the connection to another loop meanwhile: its storage goes there.
            if loop === self.loop { loop.recycleReadStorage(&buffer) } else { self.loop.recycleReadStorage(&buffer) }
        }
        self.readBuffer = buffer
    }

    /// Stops or resumes reading from the peer (for protocols that need to apply their own back-pressure).
    public func setReadingPaused(_ paused: Bool) {
        guard paused != self.readingPausedByUser, !self.isClosed else { return }
        self.readingPausedByUser = paused
        self.updateInterest()
    }

    private var eventMask: UInt32 {
        var mask = EPOLLRDHUP.rawValue
        if self.lingering || !self.isReadingPaused { mask |= EPOLLIN.rawValue }
        if self.wantsWritable { mask |= EPOLLOUT.rawValue }
        return mask
    }

    private var isReadingPaused: Bool {
        self.readingPausedByPressure || self.readingPausedByUser || self.readingPausedByLag
    }

    /// Stops reading until `target` has run most of what this connection's input queued on it.
    private func pauseForLag(behind target: EventLoop) {
        guard !self.isClosed, !self.lingering, !self.readingPausedByLag else { return }
        self.readingPausedByLag = true
        self.updateInterest()
        self.loop.waitForLag(self, behind: target)
    }

    /// Called by the loop once the loop this connection waited for caught up.
    func resumeAfterLag() {
        // A connection that closed or moved to another loop meanwhile has nothing to resume here.
        guard self.readingPausedByLag, !self.isClosed, self.loop.inEventLoop else { return }
        self.readingPausedByLag = false
        self.updateInterest()
    }

    private func updateInterest() {
        self.loop.modify(fd: self.fd, events: self.eventMask)
    }

    // MARK: Events

    func handleEvents(_ mask: UInt32) {
        if mask & EPOLLOUT.rawValue != 0 {
            self.flushNow()
            if self.isClosed { return }
        }
        if mask & (EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            self.readAvailable(mask: mask)
        }
    }

    /// Input taken from one peer per loop iteration.
    static let readBytesPerWakeup = 16 * 1024

    private func readAvailable(mask: UInt32) {
        let scratch = self.loop.scratch
        // One read of at most `readBytesPerWakeup` per wakeup, so one busy peer cannot starve the others: its
        // input may fan out to many connections (a broadcast to a room). Level-triggered epoll reports the
        // rest next time. The loop only repeats for EINTR and for input discarded while lingering.
        let limit = min(scratch.count, Self.readBytesPerWakeup)
        for _ in 0..<8 {
            if self.isClosed { return }
            if !self.lingering && self.isReadingPaused { return }
            let n = recv(self.fd, scratch.baseAddress, self.lingering ? scratch.count : limit, 0)
            if n > 0 {
                if self.lingering { continue }
                let bytes = UnsafeRawBufferPointer(rebasing: scratch[0..<n])
                let loop = self.loop
                loop.lagTarget = nil
                if let tls = self.tls { self.receiveTLS(bytes, tls) } else { self.deliverInput(appending: bytes, loop: loop) }
                // This input queued work on a loop that is behind: let that loop catch up before reading more.
                if let target = loop.lagTarget {
                    loop.lagTarget = nil
                    if loop === self.loop { self.pauseForLag(behind: target) }
                }
                return
            }
            if n == 0 {
                // The peer finished sending. Answer what is queued, then close.
                if self.lingering || self.pendingOutputBytes == 0 {
                    self.close(error: nil)
                } else {
                    self.closeAfterFlush = true
                    self.loop.modify(fd: self.fd, events: EPOLLOUT.rawValue)
                    self.wantsWritable = true
                }
                return
            }
            let err = errno
            if err == EINTR { continue }
            if err == EAGAIN || err == EWOULDBLOCK {
                if mask & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 { self.close(error: ECONNRESET) }
                return
            }
            self.close(error: err)
            return
        }
    }

    // MARK: Closing

    /// Sends what is queued, then closes.
    public func closeGracefully() {
        guard !self.isClosed, !self.closeAfterFlush else { return }
        self.closeAfterFlush = true
        if !self.flushScheduled {
            self.flushScheduled = true
            self.loop.scheduleFlush(self)
        }
    }

    /// After the last byte is sent, half-close and read until the peer closes too (bounded by a timer):
    /// closing with unread input would make the kernel reset the connection and destroy the response.
    private func beginLingeringClose() {
        self.lingering = true
        shutdown(self.fd, Int32(SHUT_WR))
        self.readingPausedByUser = false
        self.readingPausedByPressure = false
        self.readingPausedByLag = false
        self.updateInterest()
        self.lingerTimer = self.loop.schedule(afterMillis: 2000) { [weak self] in self?.close(error: nil) }
    }

    /// Its loop stopped with the connection still open: it closes, as its peer would see at process exit.
    func loopStopped() {
        self.close(error: ECANCELED)
    }

    /// Closes now, dropping queued output.
    public func close(error: Int32? = nil) {
        guard !self.isClosed else { return }
        self.closed = true
        if let timer = self.lingerTimer { self.loop.cancel(timer) }
        if self.backlogIndex >= 0 || self.accountedBacklog != 0 { self.loop.backlog.remove(self) }
        self.loop.deregisterClosing(fd: self.fd)
        if error == ENOBUFS {
            // Cut off for not reading: reset rather than leave the kernel to trickle out what it holds.
            var abort = linger(l_onoff: 1, l_linger: 0)
            setsockopt(self.fd, SOL_SOCKET, SO_LINGER, &abort, socklen_t(MemoryLayout<linger>.size))
        }
        Glibc.close(self.fd)
        self.releaseAdmission()
        self.outbound = []
        self.outboundShared = false
        self.readBuffer = ByteBuffer()
        let handler = self.handler
        self.handler = nil
        handler?.connectionClosed(self, error: error)
    }

    private func releaseAdmission() {
        guard let admission = self.admission else { return }
        self.admission = nil
        admission.counter.release(admission.ticket)
    }

    // MARK: Moving between loops

    /// Moves this connection to `target`; `completion` runs on `target` once it is registered there.
    /// Used when a WebSocket arrives on one loop for a session owned by another. The move happens after
    /// the current read callback returned (the read buffer may be borrowed right now); until then, the
    /// handler should leave incoming bytes in the buffer.
    public func migrate(to target: EventLoop, completion: @escaping @Sendable () -> Void) {
        guard target !== self.loop, !self.isClosed else {
            completion()
            return
        }
        self.loop.execute { [self] in self.performMigration(to: target, completion: completion) }
    }

    private func performMigration(to target: EventLoop, completion: @escaping @Sendable () -> Void) {
        guard !self.isClosed else { return }
        self.loop.deregister(fd: self.fd)
        if let timer = self.lingerTimer { self.loop.cancel(timer) }
        // The backlog is counted by the loop that owns the connection: the new one counts it at its next send.
        if self.backlogIndex >= 0 || self.accountedBacklog != 0 { self.loop.backlog.remove(self) }
        self.wantsWritable = false
        // The old loop's list of lagging readers forgets it (see resumeAfterLag); the new loop reads at once.
        self.readingPausedByLag = false
        let hadPendingFlush = self.flushScheduled || self.pendingOutputBytes > 0
        self.flushScheduled = false
        self.owningLoop = target
        target.execute { [self] in
            do {
                try self.start()
            } catch {
                self.closed = true
                Glibc.close(self.fd)
                self.releaseAdmission()
                let handler = self.handler
                self.handler = nil
                handler?.connectionClosed(self, error: EBADF)
                return
            }
            if hadPendingFlush {
                self.flushScheduled = true
                target.scheduleFlush(self)
            }
            completion()
        }
    }
}
