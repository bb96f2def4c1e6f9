import Foundation

/// Bounds for `MultipartFormCollector`.
public struct MultipartFormLimits: Sendable, Equatable {
    /// Largest text field held in memory; larger → 413.
    public var maxFieldSize: Int
    /// Most text fields; more → 413.
    public var maxFields: Int
    /// Most files; more → 413.
    public var maxFiles: Int
    /// Total bytes of all files written to disk; more → 413 (and the files written so far are deleted).
    public var maxTotalFileSize: Int
    /// Limits of the underlying parser.
    public var parser: MultipartLimits

    /// Creates limits: 1 MB per field, 1000 fields, 100 files, 100 MiB of files by default.
    public init(
        maxFieldSize: Int = 1_000_000, maxFields: Int = 1000, maxFiles: Int = 100,
        maxTotalFileSize: Int = 100 * 1024 * 1024, parser: MultipartLimits = MultipartLimits()
    ) {
        self.maxFieldSize = maxFieldSize
        self.maxFields = maxFields
        self.maxFiles = maxFiles
        self.maxTotalFileSize = maxTotalFileSize
        self.parser = parser
    }
}

/// An uploaded file that has been written to a temporary file.
public struct MultipartFile: Sendable, Equatable {
    /// The form field name.
    public var name: String
    /// The client's file name: untrusted, may contain path separators; use only for display or after
    /// sanitizing.
    public var filename: String
    /// The part's Content-Type, `application/octet-stream` when the client sent none.
    public var contentType: String
    /// Where the bytes are on disk (mode 0600). The application moves or deletes it.
    public var path: String
    /// Size in bytes.
    public var size: Int

    /// Creates a file description.
    public init(name: String, filename: String, contentType: String, path: String, size: Int) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.path = path
        self.size = size
    }
}

/// The result of collecting a multipart form: text fields in order, and files on disk.
public struct MultipartForm: Sendable {
    /// Text fields, in body order.
    public var fields: QueryParameters
    /// Uploaded files, in body order.
    public var files: [MultipartFile]

    /// Creates a form.
    public init(fields: QueryParameters = QueryParameters(), files: [MultipartFile] = []) {
        self.fields = fields
        self.files = files
    }

    /// The first file uploaded under field `name`.
    public func file(_ name: String) -> MultipartFile? {
        self.files.first { $0.name == name }
    }

    /// Deletes every temporary file (call when the handler has not moved them elsewhere).
    public func removeFiles() {
        for file in self.files { _ = unlink(file.path) }
    }
}
