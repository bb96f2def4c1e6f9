import EngineIO
import Foundation
import HTTPKit
import SocketIO
import SocketIORedis
import Transport

/// The running site: store and core, Socket.IO on `/socket.io/`, the router for everything else, served by a
/// `SocketIOApp` whose graceful stop hands requests back before sockets go and closes the store last.
final class SpacesServer: Sendable {
    let config: SpacesConfig
    let core: SpacesCore
    let app: SocketIOApp
    /// The cluster joined with `--redis`, if any.
    let redis: RedisAdapterCluster?

    /// Opens the data folder and the database, recovers the queue, and starts listening.
    init(config: SpacesConfig) throws {
        self.config = config
        let data = config.dataDirectory
        let fileManager = FileManager.default
        let files = SharedFiles(config: config)
        for folder in [data, files.uploads, files.covers] {
            try fileManager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        // Temporary uploads of a previous run are leftovers of requests that never completed their upload.
        try? fileManager.removeItem(atPath: data + "/tmp")
        try fileManager.createDirectory(atPath: data + "/tmp", withIntermediateDirectories: true)

        let store = try DatabaseLocation(config.database, dataDirectory: data).open()
        let core = SpacesCore(store: store, options: CoreOptions(uploadsDirectory: files.uploads))
        core.nodeID = NodeIdentity.loadOrCreate(directory: data)
        core.nodeAddress = NodeIdentity.address(host: config.host, port: config.port)
        try core.sync { try core.start() }
        self.core = core

        let sessions = SessionCookie(secret: try SessionCookie.loadOrCreateSecret(file: files.sessionKey))
        let hasher = PasswordHasher(iterations: config.pbkdf2Iterations)

        var engineOptions = EngineServerOptions.socketIO
        engineOptions.maxHttpBufferSize = config.maxMessageBytes
        engineOptions.pingInterval = config.pingIntervalMillis
        engineOptions.pingTimeout = config.pingTimeoutMillis
        engineOptions.allowEIO3 = config.allowEIO3
        engineOptions.maxBackpressure = config.maxBackpressure
        ServerMalloc.configure()
        FileDescriptorLimit.raiseAndLog(program: "spaces")
        let group = try EventLoopGroup(loopCount: config.loops)
        group.outputBudget.limit = config.maxQueuedOutput
        var ioOptions = SocketIOServerOptions()
        // Recovery: a page that loses its connection for a moment gets the updates it missed on reconnecting.
        ioOptions.connectionStateRecovery = ConnectionStateRecoveryOptions()
        let redis = try config.redisURL.map { try SpacesCluster.join(url: $0, loop: group.next()) }
        if let redis { ioOptions.adapter = redis.adapterFactory }
        self.redis = redis

        let routerBodyLimit = config.maxUploadBytes + 1024 * 1024
        var httpConfiguration = HTTPServerConfiguration(host: config.host, port: config.port)
        httpConfiguration.limits.maxBodySize = max(config.maxMessageBytes, routerBodyLimit)
        httpConfiguration.trustProxy = config.trustProxy
        httpConfiguration.tls = ToolServer.tlsContext(program: "spaces", certificate: config.tlsCertificate, key: config.tlsKey)
        httpConfiguration.maxBackpressure = config.maxBackpressure
        httpConfiguration.connectionLimits = ConnectionLimits(maxConnections: config.maxConnections ?? ConnectionLimits.fileDescriptorDefault(),
                                                              maxConnectionsPerAddress: config.maxConnectionsPerIP)
        httpConfiguration.headerTimeoutMillis = config.headerTimeoutMillis
        let router = Router(onError: { error, context in
            Log.info("\(context.method) \(context.path): \(error)")
        })
        let app = SocketIOApp(http: httpConfiguration, group: group, router: router, routerMaxBodySize: routerBodyLimit,
                              options: ioOptions, engineOptions: engineOptions)
        self.app = app
        let engine = app.engine
        WorkerGateway.install(on: app.io, core: core, sessions: sessions)

        let site = SpacesSite(core: core, sessions: sessions, hasher: hasher, dataDirectory: data,
                              files: files, maxBodyBytes: config.maxUploadBytes, publicURL: config.publicURL,
                              connectionCount: { [weak engine] in engine?.sessionCount ?? 0 })
        router.use(sync: Self.frontDoor)
        StaticAssets.install(on: router)
        LanguageRoutes.install(on: router)
        AccountRoutes.install(on: router, site: site)
        SpaceRoutes.install(on: router, site: site)
        RequestRoutes.install(on: router, site: site)
        MonitoringRoutes.install(on: router, site: site)
        router.setFallback { _ in APIError(404, "not_found", "not found").response }
        self.installShutdownOrder()

        let port = try app.start()
        // With port 0 the real one is known only now; the next lease renewal records it.
        let address = NodeIdentity.address(host: config.host, port: port)
        core.post { core.nodeAddress = address }
    }

    /// Cross-origin refusal, then `withErrorCode`: one layer rather than two, as every request passes both.
    /// Synchronous, so that the router answers its direct routes (submit, status) on the loop thread.
    static let frontDoor = SyncMiddleware(
        before: { context in
            CrossOriginProtection.allows(method: context.method, headers: context.headers) ? nil : CrossOriginProtection.refusal
        },
        after: { _, response in SpacesServer.withErrorCode(response) })

    /// Error answers from the HTTP layer (404/405/413...) get the `code` field too.
    static func withErrorCode(_ response: HTTPResponse) -> HTTPResponse {
        guard response.status >= 400, response.headers["Content-Type"]?.hasPrefix("application/json") == true,
              case .bytes(let body) = response.body, body.count < 4096,
              case .object(var object)? = try? JSONParser.parse(body), object["code"] == nil else { return response }
        object["code"] = .string(APIError.code(forStatus: response.status))
        var rewritten = response
        rewritten.body = .bytes(JSONSerializer.serialize(.object(object)))
        rewritten.headers.remove("Content-Length")
        return rewritten
    }

    /// Creates the admin account on first start (printing a generated password once), or sets its password
    /// from the configuration. Returns lines to print.
    func bootstrapAdmin() async throws -> [String] {
        let hasher = PasswordHasher(iterations: self.config.pbkdf2Iterations)
        let name = self.config.adminUser
        let core = self.core
        let existing = try await core.perform { (try core.store.firstAdmin(), try core.store.user(named: name)) }
        // The account `name` as an admin with `password`: created, or its password and role set.
        func setAdmin(password: String) async throws {
            let hash = await hasher.hashInBackground(password)
            let now = Date().timeIntervalSince1970
            try await core.perform {
                // Nodes of a cluster may start together: when another one creates the account first, ours fails
                // on the unique name, and the second pass sets the password of the account it made.
                for pass in 0..<2 {
                    if let user = try core.store.user(named: name) {
                        try core.store.setPasswordHash(userID: user.id, hash)
                        try core.store.setAdmin(userID: user.id, true)
                        return
                    }
                    do {
                        _ = try core.store.createUser(username: name, passwordHash: hash, isAdmin: true, now: now)
                        return
                    } catch let failure as StoreFailure where failure.isConstraintViolation && pass == 0 {
                        continue
                    }
                }
            }
        }
        if let password = self.config.adminPassword {
            try await setAdmin(password: password)
            return ["admin account \"\(name)\": password from SPACES_ADMIN_PASSWORD / --admin-password"]
        }
        if let admin = existing.0 {
            return ["admin account \"\(admin.username)\": use the password printed on first start"
                    + " (or restart with SPACES_ADMIN_PASSWORD to set a new one)"]
        }
        let password = SecureRandom.token(byteCount: 12)
        try await setAdmin(password: password)
        return ["created admin account \"\(name)\" with password: \(password)",
                "(shown only this once; set SPACES_ADMIN_PASSWORD to choose another)"]
    }

    /// Graceful stop (after the app closed its listener): no new dispatches, requests in flight get a moment
    /// to finish and go back to the queue otherwise, before workers get a clean disconnect; then the cluster is
    /// left and, once connections closed, the database is closed.
    private func installShutdownOrder(graceSeconds: Double = 3) {
        let core = self.core
        self.app.onShutdown(.beforeDisconnect) {
            Log.info("shutting down")
            core.sync { core.beginDraining() }
            let deadline = ContinuousClock.now + .milliseconds(Int(graceSeconds * 1000))
            while core.sync({ !core.inFlight.isEmpty || !core.submitCommits.isIdle }) && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            core.sync { core.requeueInFlight() }
        }
        let redis = self.redis
        self.app.onShutdown(.afterDisconnect) { redis?.close() }
        self.app.onShutdown(.afterDrain) {
            core.sync {
                core.membership?.stop()
                core.store.close()
            }
        }
    }

    /// Serves until SIGINT/SIGTERM, then stops gracefully (see `installShutdownOrder`).
    func run() async throws {
        try await self.app.run(drainSeconds: 3)
    }
}
