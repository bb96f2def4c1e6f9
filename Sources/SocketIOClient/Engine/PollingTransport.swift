import EngineIO
import HTTPKit

/// HTTP long-polling: one GET at a time waits for packets, POSTs carry ours. Each direction keeps its own
/// keep-alive connection, so a long poll never delays a send.
final class PollingTransport: EngineClientTransport, @unchecked Sendable {
    // Invariant for @unchecked Sendable: used on `context.loop`'s thread only.
    private enum State { case idle, opening, open, pausing, paused, closed }

    let kind = EngineTransport.polling
    weak var delegate: EngineClientTransportDelegate?
    private let context: EngineSessionContext
    private var state = State.idle
    private var pollConnection: HTTPClientConnection?
    private var postConnection: HTTPClientConnection?
    private var polling = false
    private var writing = false
    private var onPause: (() -> Void)?

    init(context: EngineSessionContext) {
        self.context = context
    }

    var isWritable: Bool { (self.state == .open || self.state == .pausing) && !self.writing }

    func open() {
        guard self.state == .idle else { return }
        self.state = .opening
        self.poll()
    }

    // MARK: Receiving

    private func poll() {
        self.polling = true
        var timeout = self.context.options.requestTimeoutMillis
        if self.context.sid != nil { timeout += self.context.heartbeatWindowMillis }
        let request = HTTPClientRequest(method: "GET", target: self.context.target(for: .polling), headers: self.context.headers)
        self.perform(request, on: .poll, timeoutMillis: timeout) { [weak self] result in
            self?.pollCompleted(result)
        }
    }

    private func pollCompleted(_ result: Result<HTTPClientResponse, HTTPClientError>) {
        guard self.state != .closed else { return }
        self.polling = false
        let response: HTTPClientResponse
        switch result {
        case .failure(let error):
            self.fail("xhr poll error: \(error)")
            return
        case .success(let value):
            response = value
        }
        guard response.status == 200 else {
            self.fail("xhr poll error: HTTP \(response.status) \(String(decoding: response.body.prefix(200), as: UTF8.self))")
            return
        }
        self.context.storeCookies(from: response)
        let packets: [EnginePacket]
        do {
            packets = try EnginePayloadCodec.decode(response.body)
        } catch {
            self.fail("parse error: \(error)")
            return
        }
        for packet in packets {
            guard self.state != .closed else { return }
            if self.state == .opening && packet.type == .open {
                self.state = .open
                self.delegate?.transportDidOpen(self)
            }
            if packet.type == .close {
                self.state = .closed
                self.closeConnections()
                self.delegate?.transportDidClose(self)
                return
            }
            self.delegate?.transport(self, didReceive: packet)
        }
        switch self.state {
        case .open, .opening:
            self.poll()
        case .pausing:
            self.checkPaused()
        default:
            break
        }
    }

    // MARK: Sending

    func send(_ packets: [EnginePacket]) {
        guard self.isWritable, !packets.isEmpty else { return }
        self.writing = true
        var headers = self.context.headers
        headers.add("Content-Type", "text/plain;charset=UTF-8")
        let request = HTTPClientRequest(method: "POST", target: self.context.target(for: .polling), headers: headers,
                                        body: EnginePayloadCodec.encode(packets))
        self.perform(request, on: .post, timeoutMillis: self.context.options.requestTimeoutMillis) { [weak self] result in
            guard let self, self.state != .closed else { return }
            self.writing = false
            switch result {
            case .failure(let error):
                self.fail("xhr post error: \(error)")
            case .success(let response) where response.status != 200:
                self.fail("xhr post error: HTTP \(response.status) \(String(decoding: response.body.prefix(200), as: UTF8.self))")
            case .success(let response):
                self.context.storeCookies(from: response)
                if self.state == .pausing {
                    self.checkPaused()
                } else {
                    self.delegate?.transportDidDrain(self)
                }
            }
        }
    }

    // MARK: Pause, close

    func pause(_ completion: @escaping () -> Void) {
        guard self.state == .open else {
            completion()
            return
        }
        self.state = .pausing
        self.onPause = completion
        self.checkPaused()
    }

    func resume() {
        guard self.state == .pausing || self.state == .paused else { return }
        self.onPause = nil
        self.state = .open
        if !self.polling { self.poll() }
        if !self.writing { self.delegate?.transportDidDrain(self) }
    }

    private func checkPaused() {
        guard self.state == .pausing, !self.polling, !self.writing else { return }
        self.state = .paused
        let onPause = self.onPause
        self.onPause = nil
        onPause?()
    }

    func close() {
        let wasOpen = self.state == .open || self.state == .pausing || self.state == .paused
        self.state = .closed
        self.pollConnection?.close()
        self.pollConnection = nil
        guard wasOpen else {
            self.closeConnections()
            return
        }
        // Tell the server, then let go whatever the answer.
        let request = HTTPClientRequest(method: "POST", target: self.context.target(for: .polling), headers: self.context.headers,
                                        body: EnginePayloadCodec.encode([.close]))
        let context = self.context
        if let connection = self.postConnection, connection.isReady {
            self.postConnection = nil
            connection.execute(request, timeoutMillis: 2000) { _ in connection.close() }
        } else {
            self.postConnection?.close()
            self.postConnection = nil
            context.connect { result in
                guard case .success(let connection) = result else { return }
                connection.execute(request, timeoutMillis: 2000) { _ in connection.close() }
            }
        }
    }

    func discard() {
        self.state = .closed
        self.closeConnections()
    }

    private func fail(_ reason: String) {
        guard self.state != .closed else { return }
        self.state = .closed
        self.closeConnections()
        self.delegate?.transport(self, didFail: reason)
    }

    private func closeConnections() {
        self.pollConnection?.close()
        self.pollConnection = nil
        self.postConnection?.close()
        self.postConnection = nil
    }

    // MARK: Connections

    /// Runs `request` on the connection kept at `slot`, opening a new one when there is none usable. A
    /// kept-alive connection the server closed just as the request went out is retried once, fresh.
    private enum Slot: Sendable { case poll, post }

    private func connection(_ slot: Slot) -> HTTPClientConnection? {
        slot == .poll ? self.pollConnection : self.postConnection
    }

    private func setConnection(_ slot: Slot, _ connection: HTTPClientConnection?) {
        if slot == .poll { self.pollConnection = connection } else { self.postConnection = connection }
    }

    private func perform(
        _ request: HTTPClientRequest, on slot: Slot, timeoutMillis: Int, retry: Bool = true,
        _ completion: @escaping @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void
    ) {
        if let connection = self.connection(slot), connection.isReady {
            connection.execute(request, timeoutMillis: timeoutMillis) { [weak self] result in
                if retry, case .failure(.connectionClosed) = result, let self, self.state != .closed {
                    self.setConnection(slot, nil)
                    self.perform(request, on: slot, timeoutMillis: timeoutMillis, retry: false, completion)
                    return
                }
                completion(result)
            }
            return
        }
        self.connection(slot)?.close()
        self.setConnection(slot, nil)
        self.context.connect { [weak self] result in
            guard let self, self.state != .closed else {
                if case .success(let connection) = result { connection.close() }
                return
            }
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let connection):
                self.setConnection(slot, connection)
                connection.execute(request, timeoutMillis: timeoutMillis, completion)
            }
        }
    }
}
