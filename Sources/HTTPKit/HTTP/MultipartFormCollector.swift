import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a multipart/form-data stream into text fields (in memory, bounded) and files (on disk, bounded).
///
/// A class so that abandoning a collector half-way deletes the files it wrote (in `deinit`); it is meant
/// to be used by one task and is deliberately not Sendable.
public final class MultipartFormCollector {
    private var parser: MultipartParser
    private let limits: MultipartFormLimits
    private let directory: String

    private var fields = QueryParameters()
    private var files: [MultipartFile] = []
    private var totalFileBytes = 0
    private var current: Current = .none
    private var failure: MultipartError?
    private var finished = false

    /// What the part being read is turning into.
    private enum Current {
        case none
        case skipped
        case field(name: String, bytes: [UInt8])
        case file(MultipartFile, descriptor: Int32)
    }

    /// Creates a collector for `boundary`. Files go to `directory` (created if missing), default the
    /// system temporary directory (`TMPDIR`).
    public init(boundary: String, directory: String? = nil, limits: MultipartFormLimits = MultipartFormLimits())
        throws(MultipartError)
    {
        self.parser = try MultipartParser(boundary: boundary, limits: limits.parser)
        self.limits = limits
        self.directory = directory ?? FileManager.default.temporaryDirectory.path
    }

    /// Creates a collector from a request's Content-Type (415 if not multipart/form-data, 400 if no boundary).
    public convenience init(
        contentType: String, directory: String? = nil, limits: MultipartFormLimits = MultipartFormLimits()
    ) throws(MultipartError) {
        let parser = try MultipartParser(contentType: contentType, limits: limits.parser)
        try self.init(parser: parser, directory: directory, limits: limits)
    }

    private init(parser: MultipartParser, directory: String?, limits: MultipartFormLimits) throws(MultipartError) {
        self.parser = parser
        self.limits = limits
        self.directory = directory ?? FileManager.default.temporaryDirectory.path
    }

    deinit {
        if !self.finished { self.abort() }
    }

    /// Collects a complete body in one call.
    public static func collect(
        body: some Sequence<UInt8>, contentType: String, directory: String? = nil,
        limits: MultipartFormLimits = MultipartFormLimits()
    ) throws(MultipartError) -> MultipartForm {
        let collector = try MultipartFormCollector(contentType: contentType, directory: directory, limits: limits)
        try collector.feed(body)
        return try collector.finish()
    }

    /// Processes the next piece of the body. On error every file written so far is deleted.
    public func feed(_ bytes: some Sequence<UInt8>) throws(MultipartError) {
        if let failure { throw failure }
        do throws(MultipartError) {
            for event in try self.parser.feed(bytes) {
                try self.handle(event)
            }
        } catch {
            self.fail(error)
            throw error
        }
    }

    /// Checks the body was complete and returns the form; the caller now owns the files.
    public func finish() throws(MultipartError) -> MultipartForm {
        if let failure { throw failure }
        do throws(MultipartError) {
            try self.parser.finish()
        } catch {
            self.fail(error)
            throw error
        }
        self.finished = true
        return MultipartForm(fields: self.fields, files: self.files)
    }

    /// Stops collecting and deletes every file written so far (also done by deinit if `finish` never ran).
    public func abort() {
        if case .file(let file, let descriptor) = self.current {
            close(descriptor)
            unlink(file.path)
        }
        self.current = .none
        for file in self.files { unlink(file.path) }
        self.files = []
        self.finished = true
    }

    private func fail(_ error: MultipartError) {
        self.failure = error
        self.abort()
    }

    private func handle(_ event: MultipartEvent) throws(MultipartError) {
        switch event {
        case .partBegin(let head):
            guard let name = head.name else {
                // RFC 7578 requires a name; a part without one cannot be a form field, so it is ignored.
                self.current = .skipped
                return
            }
            if let filename = head.filename {
                // An empty filename is a file input with nothing selected: no file is recorded.
                guard !filename.isEmpty else {
                    self.current = .skipped
                    return
                }
                if self.files.count >= self.limits.maxFiles { throw .tooLarge("too many files") }
                let file = MultipartFile(
                    name: name, filename: filename,
                    contentType: head.contentType ?? "application/octet-stream",
                    path: self.directory + "/upload-" + UUID().uuidString, size: 0)
                let descriptor = try self.createFile(at: file.path)
                self.current = .file(file, descriptor: descriptor)
            } else {
                if self.fields.count >= self.limits.maxFields { throw .tooLarge("too many form fields") }
                self.current = .field(name: name, bytes: [])
            }

        case .data(let bytes):
            switch self.current {
            case .none, .skipped:
                break
            case .field(let name, var collected):
                if collected.count + bytes.count > self.limits.maxFieldSize { throw .tooLarge("form field too large") }
                self.current = .none  // drop the reference so the append below does not copy
                collected.append(contentsOf: bytes)
                self.current = .field(name: name, bytes: collected)
            case .file(var file, let descriptor):
                if bytes.count > self.limits.maxTotalFileSize - self.totalFileBytes {
                    throw .tooLarge("uploaded files too large")
                }
                try Self.writeAll(bytes, to: descriptor)
                self.totalFileBytes += bytes.count
                file.size += bytes.count
                self.current = .file(file, descriptor: descriptor)
            }

        case .partEnd:
            switch self.current {
            case .none, .skipped:
                break
            case .field(let name, let bytes):
                self.fields.append(name, String(decoding: bytes, as: UTF8.self))
            case .file(let file, let descriptor):
                // Recorded before closing so that abort() deletes it if close reports an error.
                self.files.append(file)
                self.current = .none
                if close(descriptor) != 0 { throw MultipartError(status: 500, reason: "could not store upload") }
            }
            self.current = .none
        }
    }

    private func createFile(at path: String) throws(MultipartError) -> Int32 {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: self.directory, isDirectory: &isDirectory) {
            try? FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        }
        // O_EXCL: never write through a file or symlink someone else placed at this name.
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw MultipartError(status: 500, reason: "could not store upload") }
        return descriptor
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws(MultipartError) {
        let ok = bytes.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                guard let base = raw.baseAddress else { return false }
                let written = write(descriptor, base + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
        guard ok else { throw MultipartError(status: 500, reason: "could not store upload") }
    }
}
