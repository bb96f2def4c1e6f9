import SocketIO

/// Every text of the pages (and of their scripts). The raw value is the English text; other languages are
/// tables keyed by the case (a test checks that each has every case). `{name}` marks a placeholder.
enum Phrase: String, Sendable, CaseIterable {
    // Shell
    case siteName = "SpacesApp"
    case skipToContent = "Skip to content"
    case mainNavigation = "Main"
    case language = "Language"
    case spaces = "Spaces"
    case admin = "Admin"
    case logIn = "Log in"
    case logOut = "Log out"
    case register = "Register"
    case signedInAs = "Signed in as {name}"
    case errorTitle = "Error {status}"
    case backToSpaces = "Back to the spaces"

    // Home
    case homeIntro = "Models served by remote machines. Pick a space and send it a request."
    case noSpacesYet = "No spaces yet."
    case online = "Online"
    case offline = "Offline"
    case waitingCount = "{count} waiting"
    case processingCount = "{count} processing"
    case remoteWorkerSpace = "Remote worker"
    case standardSpace = "Standard"

    // Space page
    case standardSpaceNote = "This space shows a description only; it takes no requests."
    case workerOnline = "Worker online"
    case workerOffline = "No worker online"
    case logInToSend = "Log in to send requests to this space."
    case newRequest = "New request"
    case prompt = "Prompt"
    case audioURL = "Audio URL"
    case audioFile = "Audio file"
    case audioInput = "Audio (URL or file)"
    case videoFile = "Video file"
    case otherFile = "File"
    case sizeLimit = "Up to {size}."
    case noInputsEnabled = "This space has no inputs enabled yet."
    case offlineNote = "No worker is online right now: requests are refused until one connects."
    case send = "Send"
    case uploadProgress = "Upload progress"
    case uploading = "Uploading… {percent}%"
    case sending = "Sending…"
    case fileTooLarge = "{name} is larger than the limit of {size}."
    case nothingToSend = "Nothing to send: write a prompt or choose a file."
    case requestFailed = "The request was refused: {message}"
    case networkError = "The server could not be reached. Try again."
    case yourRequests = "Your requests"
    case noRequestsYet = "No requests yet."
    case liveWebSocket = "Live"
    case livePolling = "Live (polling)"
    case liveConnecting = "Connecting for live updates…"
    case liveUnavailable = "Live updates unavailable: refreshing every few seconds."
    case statusQueued = "Queued"
    case statusProcessing = "Processing"
    case statusCompleted = "Completed"
    case statusFailed = "Failed"
    case statusTimeout = "Timed out"
    case statusCanceled = "Canceled"
    case queuePosition = "Position {position} in the queue"
    case elapsed = "{time} elapsed"
    case submittedAt = "Sent {time}"
    case cancel = "Cancel"
    case canceling = "Canceling…"
    case resultDetails = "Full result"
    case blockedLink = "(link not shown: {url})"
    case download = "Download {name}"

    // Accounts
    case username = "Username"
    case password = "Password"
    case createAccount = "Create account"
    case noAccount = "No account yet?"
    case haveAccount = "Already have an account?"
    case alreadyLoggedIn = "You are logged in as {name}."
    case usernameRules = "Letters, digits and . _ - @ (at most 64)."
    case passwordRules = "4 to 1024 characters."
    case credentialsRequired = "Username and password are required."
    case usernameTaken = "That username is taken."
    case invalidCredentials = "Invalid username or password."

    // Admin
    case newSpace = "New space"
    case workerConnectionsJSON = "Worker connections (JSON)"
    case metrics = "Metrics"
    case name = "Name"
    case type = "Type"
    case workers = "Workers"
    case waiting = "Waiting"
    case processing = "In progress"
    case workerToken = "Token"
    case edit = "Edit"
    case yes = "yes"
    case no = "no"
    case connectedWorkers = "Connected workers"
    case noWorkerConnected = "No worker is connected."
    case space = "Space"
    case connection = "Connection"
    case address = "Address"
    case node = "Node"
    case since = "Since"
    case inFlight = "In flight"
    case completedCount = "Done"
    case recentRequests = "Recent requests"
    case created = "Created"
    case user = "User"
    case status = "Status"
    case duration = "Duration"
    case error = "Error"
    case users = "Users"
    case usedToday = "Used today"
    case dailyLimit = "Daily limit"
    case dailyLimitFor = "Daily limit of {name}"
    case dailyLimitHint = "Requests per user per UTC day; 0 means no limit."
    case set = "Set"
    case editSpace = "Edit “{name}”"
    case openSpacePage = "Open the space page"
    case saved = "Saved."
    case settings = "Settings"
    case save = "Save"
    case createSpace = "Create space"
    case deleteSpace = "Delete space"
    case deleteSpaceHint = "Its workers are disconnected and its unfinished requests canceled."
    case deleteSpaceConfirm = "Delete the space “{name}”?"
    case description = "Description"
    case coverImage = "Cover image"
    case coverImageHint = "PNG, JPEG, GIF, WebP or SVG, up to 5 MB; leave empty to keep the current one."
    case remoteWorkerSettings = "Remote worker settings"
    case enabledInputs = "Inputs the space's form offers:"
    case rateLimitField = "Seconds between two requests of a user (0: none)"
    case maxWorkersField = "Workers at once"
    case maxConcurrencyField = "Requests per worker at once"
    case timeoutField = "Time limit per request (seconds)"
    case maxUploadField = "Largest upload (MB)"
    case workerTokenField = "Worker token"
    case workerTokenHint = "When set, workers must send it to register. Leave empty for none."
    case runAWorker = "Run a worker"
    case runAWorkerHint = "On the machine that runs the model (no open port needed: it connects out):"
    case pythonWorker = "The original Python worker (mock_app.py)"
    case swiftWorker = "The Swift worker (spaces-worker)"
    case pythonWorkerTokenNote = "This space requires a token, which the original mock_app.py does not send: use spaces-worker, or add \"token\" to its register message."
    case copy = "Copy"
    case copied = "Copied"

    /// The text in `language`, placeholders filled.
    func text(_ language: Language, _ arguments: [String: String] = [:]) -> String {
        var text = language == .chinese ? (Self.chinese[self] ?? self.rawValue) : self.rawValue
        for (key, value) in arguments { text = text.replacingOccurrences(of: "{\(key)}", with: value) }
        return text
    }

    /// Phrases for a page script, as `{case name: text}` (placeholders left for the script).
    static func json(_ phrases: [Phrase], _ language: Language) -> JSONValue {
        var object = JSONObject()
        for phrase in phrases { object[String(describing: phrase)] = .string(phrase.text(language)) }
        return .object(object)
    }

    /// The status label of a request.
    static func status(_ status: RequestStatus) -> Phrase {
        switch status {
        case .queued: return .statusQueued
        case .processing: return .statusProcessing
        case .completed: return .statusCompleted
        case .failed: return .statusFailed
        case .timeout: return .statusTimeout
        case .canceled: return .statusCanceled
        }
    }
}
