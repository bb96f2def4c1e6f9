import EngineIO
import Foundation
import HTTPKit
import SocketIO

/// The request API: submit, status, list, cancel; files uploaded with requests and by workers.
enum RequestRoutes {
    static func install(on router: Router, site: SpacesSite) {
        // Submit and status, the API's hot calls, are direct routes: answered from the core's queue once durable,
        // with no task or continuation between the loop thread and the queue.
        router.addDirect(method: "POST", path: "/websockets/submit/:space_id", handler: site.directRoute { context, answer in
            // The cookie is checked here; the account is read in the same trip to the core as the submission.
            guard let userID = site.sessions.userID(from: context.headers, now: site.now) else { throw APIError.notLoggedIn() }
            guard let spaceID = context.params.int("space_id") else {
                throw APIError.notFound("space_not_found", "Space not found")
            }
            let submit: @Sendable (Submission) -> Void = { submission in
                self.submit(submission, userID: userID, spaceID: spaceID, context: context, site: site, answer: answer)
            }
            guard let type = context.headers["Content-Type"], type.lowercased().hasPrefix("multipart/form-data") else {
                submit(try self.parseSubmission(context, site: site))
                return
            }
            // Multipart parts are written to files: not on the loop thread.
            Task {
                do {
                    submit(try self.parseSubmission(context, site: site))
                } catch {
                    answer(.failure(error))
                }
            }
        })

        router.addDirect(method: "GET", path: "/websockets/status", handler: site.directRoute { context, answer in
            guard let requestID = context.query["request_id"], !requestID.isEmpty else {
                throw APIError.badRequest("missing_request_id", "request_id is required")
            }
            let reader = RequestReader(context, site: site)
            // Status reads that wait for the core together are read together (one statement on PostgreSQL).
            site.core.withRequest(id: requestID, { record -> (RequestRecord, Int?, User?)? in
                guard let record else { return nil }
                return (record, site.core.queuePosition(record), try reader.account(for: record, in: site.core.store))
            }, completion: { result in
                answer(Result {
                    guard let (record, position, account) = try result.get() else {
                        throw APIError.notFound("request_not_found", "Request not found")
                    }
                    try reader.authorize(record, account: account)
                    return HTTPResponse.json(bytes: self.statusJSON(record, position: position))
                })
            })
        })

        router.get("/websockets/requests", handler: site.route { context in
            let user = try await site.requireUser(context)
            var spaceID: Int64?
            if let text = context.query["space_id"], !text.isEmpty {
                guard let id = Int64(text) else { throw APIError.badRequest("invalid_space_id", "space_id must be a number") }
                spaceID = id
            }
            let limit = min(max(context.query.int("limit") ?? 100, 1), 1000)
            let space = spaceID
            let rows = try await site.core.perform {
                try site.core.store.requests(userID: user.id, spaceID: space, limit: limit).map { ($0, site.core.queuePosition($0)) }
            }
            // `results=1` (the space page): each with its prompt, files and result, so history renders in one call.
            let withResults = context.query.bool("results") ?? false
            let items: [JSONValue] = rows.map { record, position in
                var object = self.summary(record, position: position)
                if withResults {
                    let payload = (try? JSONParser.parse(record.payload)) ?? .null
                    object["prompt"] = payload["prompt"] ?? .null
                    object["audio"] = payload["audio"] ?? .null
                    object["files"] = payload["files"] ?? .null
                    object["result"] = record.result.flatMap { try? JSONParser.parse($0) } ?? .null
                }
                return .object(object)
            }
            return SpacesSite.json(["success": true, "requests": .array(items)])
        })

        router.post("/websockets/cancel/:request_id", handler: site.route { context in
            let user = try await site.requireUser(context)
            let requestID = context.params["request_id"] ?? ""
            let record = try await site.core.perform { () throws -> RequestRecord in
                guard let record = try site.core.store.request(id: requestID) else {
                    throw APIError.notFound("request_not_found", "Request not found")
                }
                guard record.userID == user.id || user.isAdmin else {
                    throw APIError.forbidden("Only the owner may cancel a request")
                }
                return try site.core.cancel(requestID: requestID)
            }
            return SpacesSite.json(["success": true, "request_id": .string(record.id), "status": .string(record.status.rawValue)])
        })

        router.post("/api/upload", handler: site.route { context in
            guard let type = context.headers["Content-Type"], type.lowercased().hasPrefix("multipart/form-data") else {
                throw APIError(415, "unsupported_media_type", "expected multipart/form-data with file and request_id")
            }
            let form = try context.multipart(directory: site.tempDirectory,
                                             limits: MultipartFormLimits(maxFiles: 1, maxTotalFileSize: site.maxBodyBytes))
            guard let file = form.file("file") else {
                form.removeFiles()
                throw APIError.badRequest("missing_file", "file is required")
            }
            let requestID = form.fields["request_id"] ?? ""
            let token = form.fields["token"] ?? self.bearerToken(context) ?? ""
            let baseURL = site.baseURL(context)
            do {
                let url = try await site.core.perform { () throws -> String in
                    guard !requestID.isEmpty, let record = try site.core.store.request(id: requestID) else {
                        throw APIError.notFound("request_not_found", "Unknown request_id")
                    }
                    guard !token.isEmpty, constantTimeEquals(token, record.token) else {
                        throw APIError.forbidden("The token does not match the request")
                    }
                    guard record.status == .processing else {
                        throw APIError(409, "request_not_processing", "The request is \(record.status.rawValue)")
                    }
                    let limit = (try site.core.store.space(id: record.spaceID))?.maxUploadBytes ?? 0
                    guard file.size <= limit else {
                        throw APIError(413, "file_too_large", "The file is larger than this space's limit of \(limit) bytes")
                    }
                    let directory = site.uploadsDirectory + "/" + record.id
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                    let name = "result-\(SecureRandom.token(byteCount: 6))-\(Submission.safeFileName(file.filename))"
                    guard FileMove.move(file.path, to: directory + "/" + name) else {
                        throw APIError(500, "storage_error", "Could not store the file")
                    }
                    return "\(record.baseURL.isEmpty ? baseURL : record.baseURL)/uploads/\(record.id)/\(name)?token=\(record.token)"
                }
                return SpacesSite.json(["success": true, "url": .string(url)])
            } catch {
                form.removeFiles()
                throw error
            }
        })

        router.get("/uploads/:request_id/:name", handler: site.route { context in
            let requestID = context.params["request_id"] ?? ""
            let name = context.params["name"] ?? ""
            let reader = RequestReader(context, site: site)
            guard name == Submission.safeFileName(name), requestID == Submission.safeFileName(requestID),
                  let (record, account) = try await site.core.perform({ () -> (RequestRecord, User?)? in
                      guard let record = try site.core.store.request(id: requestID) else { return nil }
                      return (record, try reader.account(for: record, in: site.core.store))
                  }) else {
                throw APIError.notFound("not_found", "File not found")
            }
            try reader.authorize(record, account: account)
            var response = StaticFiles(root: site.uploadsDirectory + "/" + requestID, cacheControl: "private, max-age=0",
                                       indexFile: nil).response(for: context.request, relativePath: name)
            response.headers.set("X-Content-Type-Options", "nosniff")
            let type = MIMETypes.type(forPath: name)
            if !(type.hasPrefix("image/") || type.hasPrefix("audio/") || type.hasPrefix("video/")) || type.contains("svg") {
                // Never render uploaded HTML or SVG as a page of this site.
                response.headers.set("Content-Disposition", "attachment")
                response.headers.set("Content-Security-Policy", "sandbox")
            }
            return response
        })
    }

    /// Queues `submission` and answers once its row is committed (on PostgreSQL the commit runs off the core's
    /// queue); its files are removed when it fails.
    private static func submit(_ submission: Submission, userID: Int64, spaceID: Int, context: RequestContext,
                               site: SpacesSite, answer: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void) {
        let baseURL = site.baseURL(context)
        // A form posted without the page's script goes back to the space page, where the request is listed.
        let wantsHTML = SpacesSite.wantsHTML(context)
        site.core.performDeferred({ finish in
            let core = site.core
            guard let user = try core.store.user(id: userID) else { throw APIError.notLoggedIn() }
            let submitter = Submitter(userID: user.id, username: user.username, dailyQuota: user.dailyQuota)
            core.submit(submission, spaceID: Int64(spaceID), by: submitter, baseURL: baseURL) { result in
                finish(result.map { ($0, core.queuePosition($0)) }.mapError { $0 })
            }
        }, completion: { (result: Result<(RequestRecord, Int?), any Error>) in
            switch result {
            case .success(let (record, position)):
                answer(.success(wantsHTML ? .redirect(to: "/ai_project/\(spaceID)")
                                          : HTTPResponse.json(bytes: self.submitJSON(record, position: position))))
            case .failure(let error):
                for file in submission.files { _ = unlink(file.path) }
                answer(.failure(error))
            }
        })
    }

    /// The token of `Authorization: Bearer <token>` or `X-Request-Token`.
    static func bearerToken(_ context: RequestContext) -> String? {
        if let header = context.headers["Authorization"], header.lowercased().hasPrefix("bearer ") {
            return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        return context.headers["X-Request-Token"]
    }

    /// Parses the form (urlencoded or multipart; files go to the temporary folder).
    static func parseSubmission(_ context: RequestContext, site: SpacesSite) throws -> Submission {
        var submission = Submission()
        if let type = context.headers["Content-Type"], type.lowercased().hasPrefix("multipart/form-data") {
            let form = try context.multipart(directory: site.tempDirectory,
                                             limits: MultipartFormLimits(maxFiles: 8, maxTotalFileSize: site.maxBodyBytes))
            for file in form.files {
                let wanted = Submission.fileFields.contains { $0.field == file.name }
                    && !submission.files.contains { $0.field == file.name }
                // Browsers send an empty part for a file input left empty.
                if wanted && !(file.size == 0 && file.filename.isEmpty) {
                    submission.files.append(SubmittedFile(field: file.name, filename: file.filename,
                                                          contentType: file.contentType, path: file.path, size: file.size))
                } else {
                    _ = unlink(file.path)
                }
            }
            submission.prompt = form.fields["prompt"]
            submission.audioURL = form.fields["audio_url"]
        } else {
            let form = try context.form()
            submission.prompt = form["prompt"]
            submission.audioURL = form["audio_url"]
        }
        return submission
    }

    /// The fields every request answer shares.
    static func summary(_ record: RequestRecord, position: Int?) -> JSONObject {
        var object = JSONObject()
        object["request_id"] = .string(record.id)
        object["space_id"] = .int(record.spaceID)
        object["status"] = .string(record.status.rawValue)
        object["queue_position"] = position.map { .int(Int64($0)) } ?? .null
        object["progress"] = record.progress.map { .double($0) } ?? .null
        object["progress_message"] = record.progressMessage.map { .string($0) } ?? .null
        object["error"] = record.error.map { .string($0) } ?? .null
        object["deliveries"] = .int(Int64(record.deliveries))
        object["created_at"] = .string(ISOTime.format(record.createdAt))
        object["updated_at"] = .string(ISOTime.format(record.updatedAt))
        object["started_at"] = record.startedAt.map { .string(ISOTime.format($0)) } ?? .null
        object["finished_at"] = record.finishedAt.map { .string(ISOTime.format($0)) } ?? .null
        return object
    }

    /// The submit answer `{success, request_id, status, queue_position}`, written straight to bytes (one per
    /// request: building and serializing a JSONObject cost several thousand instructions).
    static func submitJSON(_ record: RequestRecord, position: Int?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        out += #"{"success":true,"request_id":"#.utf8
        JSONSerializer.appendQuoted(record.id, into: &out)
        out += #","status":"#.utf8
        JSONSerializer.appendQuoted(record.status.rawValue, into: &out)
        out += #","queue_position":"#.utf8
        if let position { out += String(position).utf8 } else { out += "null".utf8 }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The status answer: `summary`'s fields, `success`, `username`, then the payload and result texts spliced in as
    /// stored (a 5 MB result is not re-parsed). Written straight to bytes, in `summary`'s key order: the most
    /// frequent answer of the API skips building a JSONObject.
    static func statusJSON(_ record: RequestRecord, position: Int?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(400 + record.payload.utf8.count + (record.result?.utf8.count ?? 4))
        // Names and literals as static bytes: appending a String's UTF-8 view cost more than the rest of a key.
        func raw(_ text: StaticString) {
            text.withUTF8Buffer { out.append(contentsOf: $0) }
        }
        func key(_ name: StaticString) {
            out.append(out.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            raw(name)
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func string(_ name: StaticString, _ value: String?) {
            key(name)
            if let value { JSONSerializer.appendQuoted(value, into: &out) } else { raw("null") }
        }
        func time(_ name: StaticString, _ seconds: Double?) {
            key(name)
            guard let seconds else {
                raw("null")
                return
            }
            out.append(UInt8(ascii: "\""))
            ISOTime.append(seconds, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        string("request_id", record.id)
        key("space_id")
        out += String(record.spaceID).utf8
        string("status", record.status.rawValue)
        key("queue_position")
        if let position { out += String(position).utf8 } else { raw("null") }
        key("progress")
        if let progress = record.progress { JSONSerializer.serialize(.double(progress), into: &out) } else { raw("null") }
        string("progress_message", record.progressMessage)
        string("error", record.error)
        key("deliveries")
        out += String(record.deliveries).utf8
        time("created_at", record.createdAt)
        time("updated_at", record.updatedAt)
        time("started_at", record.startedAt)
        time("finished_at", record.finishedAt)
        key("success")
        raw("true")
        string("username", record.username)
        // The payload is JSON the server wrote at submission: spliced in as stored, not parsed and written again.
        key("payload")
        let payload = record.payload.utf8
        if payload.first == UInt8(ascii: "{") && payload.last == UInt8(ascii: "}") {
            out += payload
        } else {
            out += JSONSerializer.serialize((try? JSONParser.parse(record.payload)) ?? .null)
        }
        key("result")
        out += (record.result ?? "null").utf8
        out.append(UInt8(ascii: "}"))
        return out
    }
}
