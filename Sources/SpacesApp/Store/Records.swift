/// A site account.
struct User: Sendable, Equatable {
    var id: Int64
    var username: String
    var passwordHash: String
    var isAdmin: Bool
    /// Most requests per UTC day; 0 means no limit.
    var dailyQuota: Int
    var createdAt: Double
}

/// What kind of space: `websockets` spaces are served by remote workers, `standard` ones only show a description.
enum SpaceType: String, Sendable, CaseIterable {
    case standard
    case websockets
}

/// A space and its settings.
struct Space: Sendable, Equatable {
    var id: Int64 = 0
    var name: String
    var description: String = ""
    var cardType: SpaceType = .standard
    /// File name of the cover image under the data folder's `covers/`, if any.
    var coverImage: String?
    var enablePrompt = false
    var enableAudio = false
    var enableVideo = false
    var enableFileUpload = false
    /// Seconds a user must wait between two submissions to this space (0: none).
    var rateLimitSeconds = 0
    /// Workers that may serve the space at once.
    var maxWorkers = 1
    /// Most requests one worker may hold at once.
    var maxConcurrency = 1
    /// Seconds a dispatched request may take before it ends as `timeout`.
    var timeoutSeconds = 120
    /// Secret workers must present when set.
    var workerToken: String?
    /// Largest file accepted per upload, in bytes.
    var maxUploadBytes = 50 * 1024 * 1024
    var createdAt: Double = 0

    var isWebsockets: Bool { self.cardType == .websockets }
}

/// A request's place in its life: `queued` → `processing` → `completed` | `failed` | `timeout` | `canceled`.
enum RequestStatus: String, Sendable, CaseIterable {
    case queued
    case processing
    case completed
    case failed
    case timeout
    case canceled

    /// Whether nothing can happen to the request any more.
    var isFinal: Bool {
        switch self {
        case .queued, .processing: return false
        case .completed, .failed, .timeout, .canceled: return true
        }
    }
}

/// One inference request, as stored.
struct RequestRecord: Sendable, Equatable {
    var id: String
    var spaceID: Int64
    var userID: Int64
    var username: String
    /// The `payload` object sent to the worker, as JSON text.
    var payload: String
    var status: RequestStatus
    /// The worker's `result`, as JSON text.
    var result: String?
    var error: String?
    /// Secret that authorises reads of the request's files and status (and a worker's uploads for it).
    var token: String
    /// How many times it was sent to a worker.
    var deliveries: Int
    /// Socket id of the worker holding it while `processing`.
    var workerID: String?
    var progress: Double?
    var progressMessage: String?
    /// FIFO key within the space: smaller goes first.
    var queueOrder: Int64
    var createdAt: Double
    var updatedAt: Double
    var startedAt: Double?
    var finishedAt: Double?
    /// Scheme and host the submitter reached us at: file URLs given to the worker are absolute.
    var baseURL: String = ""
}
