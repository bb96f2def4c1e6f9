import Foundation
import SocketIO

/// A file that came with a submission, already written to a temporary file by the multipart collector.
struct SubmittedFile: Sendable, Equatable {
    /// `audio_file`, `video_file` or `other_file`.
    var field: String
    var filename: String
    var contentType: String
    var path: String
    var size: Int
}

/// The inputs of `POST /websockets/submit/<space_id>`, parsed but not yet checked against the space.
///
/// `prompt` and `audioURL` reach the worker exactly as sent (indentation in code, line breaks in verse):
/// whitespace only decides whether a field counts as empty.
struct Submission: Sendable, Equatable {
    var prompt: String?
    var audioURL: String?
    var files: [SubmittedFile] = []

    /// Fields a submission may carry files under, and the payload key each becomes.
    static let fileFields: [(field: String, payloadKey: String)] = [
        ("audio_file", "audio"), ("video_file", "video"), ("other_file", "file"),
    ]

    /// Longest prompt accepted, in characters.
    static let maxPromptLength = 100_000
    /// Longest `audio_url` accepted.
    static let maxURLLength = 4096

    /// Checks the inputs against what `space` accepts; throws the first problem as a 400 / 413.
    func validate(for space: Space) throws(APIError) {
        let audioURL = self.audioURL ?? ""
        // Checked even for a prompt of spaces alone: it is forwarded as sent.
        guard (self.prompt ?? "").count <= Self.maxPromptLength else {
            throw APIError(413, "prompt_too_long", "The prompt is longer than \(Self.maxPromptLength) characters")
        }
        if self.hasPrompt && !space.enablePrompt {
            throw APIError(400, "input_not_enabled", "This space does not accept a text prompt")
        }
        if self.hasAudioURL {
            guard space.enableAudio else {
                throw APIError(400, "input_not_enabled", "This space does not accept audio")
            }
            // The URL is forwarded as sent, so it is checked as sent: surrounding spaces make it invalid.
            guard audioURL.count <= Self.maxURLLength,
                  let url = URL(string: audioURL), let scheme = url.scheme?.lowercased(),
                  scheme == "http" || scheme == "https", url.host != nil else {
                throw APIError(400, "invalid_audio_url", "audio_url must be an http or https URL")
            }
        }
        for file in self.files {
            let (enabled, what): (Bool, String) = switch file.field {
            case "audio_file": (space.enableAudio, "audio")
            case "video_file": (space.enableVideo, "video")
            default: (space.enableFileUpload, "file uploads")
            }
            guard enabled else { throw APIError(400, "input_not_enabled", "This space does not accept \(what)") }
            guard file.size <= space.maxUploadBytes else {
                throw APIError(413, "file_too_large",
                               "\(file.field) is larger than this space's limit of \(space.maxUploadBytes) bytes")
            }
        }
        if self.hasAudioURL && self.files.contains(where: { $0.field == "audio_file" }) {
            throw APIError(400, "invalid_input", "Give either audio_url or audio_file, not both")
        }
        if !self.hasPrompt && !self.hasAudioURL && self.files.isEmpty {
            throw APIError(400, "empty_request", "Nothing to submit: give a prompt or a file")
        }
    }

    /// Whether the prompt has more than whitespace.
    var hasPrompt: Bool { Self.hasContent(self.prompt) }
    /// Whether `audio_url` has more than whitespace.
    var hasAudioURL: Bool { Self.hasContent(self.audioURL) }

    private static func hasContent(_ text: String?) -> Bool {
        text?.contains { !$0.isWhitespace } ?? false
    }

    /// A file name safe to store and to put in a URL.
    static func safeFileName(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var out = String(last.unicodeScalars.map { scalar -> Character in
            let c = Character(scalar)
            return scalar.isASCII && (c.isLetter || c.isNumber || c == "." || c == "-" || c == "_") ? c : "_"
        })
        while out.hasPrefix(".") { out.removeFirst() }
        if out.count > 100 { out = String(out.suffix(100)) }
        return out.isEmpty ? "file" : out
    }
}

/// Who is submitting, as the core needs it.
struct Submitter: Sendable {
    var userID: Int64
    var username: String
    var dailyQuota: Int
}

/// How far `startSubmit` took a submission.
enum SubmitStage: Sendable {
    /// Stored and queued or dispatched (SQLite, whose commit is cheap and stays on the queue).
    case done(RequestRecord)
    /// Checked and ready; its row still has to be committed (`commitAccept`) and the result applied (`finishAccept`).
    case commit(PendingSubmit)
}

extension SpacesCore {
    /// Accepts a submission and waits for its commit on the queue (tests, tools; the HTTP route uses
    /// `submit(_:spaceID:by:baseURL:done:)`). Throws `APIError`s; the caller deletes the temporary files on error.
    func submit(_ submission: Submission, spaceID: Int64, by submitter: Submitter, baseURL: String) throws(APIError)
        -> RequestRecord
    {
        switch try self.startSubmit(submission, spaceID: spaceID, by: submitter, baseURL: baseURL) {
        case .done(let record): return record
        case .commit(let pending): return try self.finishAccept(pending, self.commitAccept(pending))
        }
    }

    /// Accepts a submission and calls `done` on the queue once it is durable, or refused. On PostgreSQL the commit
    /// runs off the queue (`SubmissionCommits`), so dispatch and results of other requests do not wait for it; the
    /// request reaches a worker only after its row is committed, and `done` answers only then.
    func submit(_ submission: Submission, spaceID: Int64, by submitter: Submitter, baseURL: String,
                done: @escaping @Sendable (Result<RequestRecord, APIError>) -> Void)
    {
        let pending: PendingSubmit
        do {
            switch try self.startSubmit(submission, spaceID: spaceID, by: submitter, baseURL: baseURL) {
            case .done(let record):
                // Answered once the row is committed; a row that could not be saved answers its error.
                self.whenDurable(request: record.id, { done(.success(record)) }, unsaved: { error in
                    done(.failure(APIError.store(error, fallback: APIError(500, "storage_error", "Could not save the request"))))
                })
                return
            case .commit(let ready):
                pending = ready
            }
        } catch {
            done(.failure(error))
            return
        }
        let started = self.submitCommits.start { lane in
            let committed = self.commitAccept(pending)
            self.post {
                self.submitCommits.finished(lane: lane)
                do throws(APIError) {
                    done(.success(try self.finishAccept(pending, committed)))
                } catch {
                    done(.failure(error))
                }
            }
        }
        if !started {
            let busy = APIError(503, "database_busy", "Too many submissions are waiting for the database, try again shortly",
                                extra: ["retry_after": .int(1)])
            do {
                _ = try self.finishAccept(pending, .failure(busy))
            } catch {
                done(.failure(error))
            }
        }
    }

    /// Every check of a submission (space, worker online, inputs, sizes, and on one node the rate limit and the
    /// daily quota), then the files moved next to the request. On SQLite the request is also stored, queued and
    /// dispatched; on a cluster it is ready for `commitAccept`, which checks the limits atomically.
    private func startSubmit(_ submission: Submission, spaceID: Int64, by submitter: Submitter, baseURL: String)
        throws(APIError) -> SubmitStage
    {
        let found: Space?
        do {
            found = try self.store.space(id: spaceID)
        } catch {
            throw APIError.store(error, fallback: APIError(500, "storage_error", "Could not read the space"))
        }
        guard let space = found else {
            throw APIError.notFound("space_not_found", "Space not found")
        }
        guard space.isWebsockets else {
            throw APIError.notFound("not_websockets_space", "This space does not take requests")
        }
        guard self.hasWorker(spaceID: space.id), !self.draining else {
            throw APIError(503, "no_worker", "No worker is connected to this space")
        }
        try submission.validate(for: space)
        guard self.queueSizeForLimit(spaceID: space.id) < self.options.maxQueuedPerSpace else {
            throw APIError(503, "queue_full", "This space's queue is full, try again later")
        }

        let now = self.clock()
        let rateKey = "\(submitter.userID):\(space.id)"
        // On a cluster the store checks both limits itself, atomically, when it inserts the request.
        if self.cluster == nil, space.rateLimitSeconds > 0, let last = self.lastSubmission[rateKey] {
            let wait = Double(space.rateLimitSeconds) - (now - last)
            if wait > 0 { throw Self.rateLimited(retryAfter: Int(wait.rounded(.up))) }
        }
        if self.cluster == nil, submitter.dailyQuota > 0 {
            let used: Int
            do {
                used = try self.store.requestCount(userID: submitter.userID, since: ISOTime.startOfDay(now))
            } catch {
                throw APIError.store(error, fallback: APIError(500, "storage_error", "Could not count your requests"))
            }
            if used >= submitter.dailyQuota {
                throw Self.quotaExceeded(submitter.dailyQuota, used: used)
            }
        }

        let requestID = SecureRandom.uuid()
        let token = SecureRandom.token()
        var payload = JSONObject()
        // As typed: design §3 (`payload.prompt` is never trimmed).
        payload["prompt"] = .string(submission.prompt ?? "")
        payload["timestamp"] = .string(ISOTime.format(now))
        if let audioURL = submission.audioURL, submission.hasAudioURL {
            payload["audio"] = .string(audioURL)
        }
        if !submission.files.isEmpty {
            let directory = self.options.uploadsDirectory + "/" + requestID
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw APIError(500, "storage_error", "Could not store the uploaded files")
            }
            var files: [JSONValue] = []
            for file in submission.files {
                let key = Submission.fileFields.first { $0.field == file.field }?.payloadKey ?? "file"
                let name = key + "-" + Submission.safeFileName(file.filename)
                guard FileMove.move(file.path, to: directory + "/" + name) else {
                    throw APIError(500, "storage_error", "Could not store the uploaded files")
                }
                let url = "\(baseURL)/uploads/\(requestID)/\(name)?token=\(token)"
                if payload[key] == nil { payload[key] = .string(url) }
                files.append(["field": .string(file.field), "name": .string(file.filename), "url": .string(url),
                              "size": .int(Int64(file.size)), "content_type": .string(file.contentType)])
            }
            payload["files"] = .array(files)
        }

        var record = RequestRecord(
            id: requestID, spaceID: space.id, userID: submitter.userID, username: submitter.username,
            payload: String(decoding: JSONSerializer.serialize(.object(payload)), as: UTF8.self), status: .queued,
            result: nil, error: nil, token: token, deliveries: 0, workerID: nil, progress: nil, progressMessage: nil,
            queueOrder: self.nextQueueOrder, createdAt: now, updatedAt: now, startedAt: nil, finishedAt: nil,
            baseURL: baseURL)
        if self.cluster != nil {
            return .commit(self.prepareAccept(record, space: space, submitter: submitter))
        } else {
            // Nothing waiting ahead and a free slot: the request is saved already dispatched, one write
            // instead of an insert and an update.
            let worker = self.fifos[space.id]?.isEmpty ?? true
                ? self.holders[space.id].flatMap { self.freestWorker(of: $0, spaceID: space.id, space: space) } : nil
            if let worker {
                record.status = .processing
                record.deliveries = 1
                record.workerID = worker.id
                record.startedAt = now
            }
            do {
                try self.store.insertRequest(record)
            } catch {
                Log.info("could not save request \(requestID): \(error)")
                throw APIError.store(error, fallback: APIError(500, "storage_error", "Could not save the request"))
            }
            self.insertedWhileGathering(record)
            self.nextQueueOrder += 1
            self.lastSubmission[rateKey] = now
            self.metrics.submitted += 1
            if let worker {
                self.deliver(record, to: worker.id, space: space, now: now, payload: .object(payload))
                return .done(record)
            }
            self.fifos[space.id, default: RequestFIFO()].insert(id: record.id, order: record.queueOrder)
            self.keepQueuedPayload(record, .object(payload))
        }
        self.dispatch(spaceID: space.id)
        return .done(self.publishIfQueued(record))
    }

    /// The request as stored now; a dispatched one was published by `deliver`, a waiting one is news for the
    /// owner's other pages.
    func publishIfQueued(_ record: RequestRecord) -> RequestRecord {
        let saved = (try? self.store.request(id: record.id)) ?? nil ?? record
        if saved.status == .queued { self.publish(saved) }
        return saved
    }

    static func rateLimited(retryAfter: Int) -> APIError {
        APIError(429, "rate_limited", "Please wait \(retryAfter) seconds before submitting again",
                 extra: ["retry_after": .int(Int64(retryAfter))])
    }

    static func quotaExceeded(_ quota: Int, used: Int) -> APIError {
        APIError(403, "quota_exceeded", "Daily quota of \(quota) requests reached, try again tomorrow",
                 extra: ["quota": .int(Int64(quota)), "used": .int(Int64(used))])
    }

    /// Cancels a queued or processing request (the worker holding it is told with `inference_cancel`).
    func cancel(requestID: String) throws(APIError) -> RequestRecord {
        guard let record = (try? self.store.request(id: requestID)) ?? nil else {
            throw APIError.notFound("request_not_found", "Request not found")
        }
        guard RequestLifecycle.next(record.status, on: .cancel) != nil else {
            throw APIError(409, "not_cancelable", "The request is already \(record.status.rawValue)")
        }
        if let flight = self.inFlight[requestID], let channel = self.workers[flight.workerID]?.channel {
            self.whenDurable { channel.send("inference_cancel", ["request_id": .string(requestID)]) }
        }
        self.finish(requestID, event: .cancel, result: nil, error: "Canceled by the user")
        return (try? self.store.request(id: requestID)) ?? nil ?? record
    }

    /// Deletes a space: its workers are disconnected and its unfinished requests canceled.
    func deleteSpace(id spaceID: Int64) throws {
        for workerID in self.holders[spaceID] ?? [] {
            if let channel = self.workers[workerID]?.channel { self.whenDurable { channel.disconnect() } }
        }
        let active = try self.store.activeRequests().filter { $0.spaceID == spaceID }
        for record in active {
            self.finish(record.id, event: .cancel, result: nil, error: "The space was deleted")
        }
        for workerID in self.holders[spaceID] ?? [] {
            self.workers[workerID]?.registrations[spaceID] = nil
        }
        self.holders[spaceID] = nil
        self.fifos[spaceID] = nil
        try self.store.deleteSpace(id: spaceID)
        self.spaceChanged(spaceID)
    }
}
