import CLibPQ
import Foundation

/// One libpq connection with its prepared statements: parameters and results travel in text format.
///
/// Not thread-safe: the pool hands it to one caller at a time.
final class PostgresConnection: SQLDatabase {
    /// The libpq connection (nil once closed); `PostgresListener` waits on its socket.
    private(set) var handle: OpaquePointer?
    /// Statement name per SQL text (as written, with `?` placeholders).
    private var prepared: [StatementKey: String] = [:]
    var dialect: SQLDialect { .postgres }

    /// Connects to `url` (`postgres://user:password@host:port/db`, libpq's URI form; settings in the URL win
    /// over the defaults given here). `options` are server settings for the session (libpq's `options`,
    /// e.g. `-c synchronous_commit=off`), sent with the startup packet: no round trip of their own.
    init(url: String, connectTimeoutSeconds: Int = 5, options: String? = nil) throws(PostgresError) {
        // libpq reads keywords in order and keeps the last value: the URL (dbname, expanded) comes last.
        var keywords = ["connect_timeout", "application_name", "client_encoding"]
        var values = [String(connectTimeoutSeconds), "spaces", "UTF8"]
        if let options {
            keywords.append("options")
            values.append(options)
        }
        keywords.append("dbname")
        values.append(url)
        let keyCopies = keywords.map { strdup($0) }
        let valueCopies = values.map { strdup($0) }
        defer { for copy in keyCopies + valueCopies { free(copy) } }
        // NULL-terminated arrays, as libpq expects.
        let keys: [UnsafePointer<CChar>?] = keyCopies.map { UnsafePointer($0) } + [nil]
        let vals: [UnsafePointer<CChar>?] = valueCopies.map { UnsafePointer($0) } + [nil]
        let connection = PQconnectdbParams(keys, vals, 1)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { Self.trimmed(PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(connection)
            throw .cannotConnect(message)
        }
        self.handle = connection
    }

    deinit {
        self.close()
    }

    func close() {
        PQfinish(self.handle)
        self.handle = nil
        self.prepared.removeAll()
    }

    /// Whether the connection is still up as far as libpq knows (a failed call notices a drop).
    var isUsable: Bool { self.handle != nil && PQstatus(self.handle) == CONNECTION_OK }

    /// Whether a transaction is open (a connection is only reused outside one).
    var isIdle: Bool { self.handle != nil && PQtransactionStatus(self.handle) == PQTRANS_IDLE }

    // MARK: SQLDatabase

    func execute(_ sql: String) throws(PostgresError) {
        guard let handle = self.handle else { throw .connectionLost("connection is closed") }
        PQclear(try self.check(PQexec(handle, sql)))
    }

    func run(_ sql: String, parameters: [SQLValue]) throws(PostgresError) -> Int {
        let result = try self.executePrepared(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    func insertReturningID(_ sql: String, parameters: [SQLValue]) throws(PostgresError) -> Int64 {
        let result = try self.executePrepared(sql + " RETURNING id", parameters)
        defer { PQclear(result) }
        guard PQntuples(result) == 1 else { throw PostgresError(sqlState: "02000", message: "INSERT returned no id") }
        return PostgresRow(result: result, row: 0).int64(0)
    }

    func query<T>(_ sql: String, parameters: [SQLValue], map: (PostgresRow) throws -> T) throws -> [T] {
        let result = try self.executePrepared(sql, parameters)
        defer { PQclear(result) }
        let count = PQntuples(result)
        var rows: [T] = []
        rows.reserveCapacity(Int(count))
        for row in 0..<count { rows.append(try map(PostgresRow(result: result, row: row))) }
        return rows
    }

    func queryFirst<T>(_ sql: String, parameters: [SQLValue], map: (PostgresRow) throws -> T) throws -> T? {
        let result = try self.executePrepared(sql, parameters)
        defer { PQclear(result) }
        return PQntuples(result) > 0 ? try map(PostgresRow(result: result, row: 0)) : nil
    }

    func transaction<T>(_ body: () throws -> T) throws -> T {
        try self.inTransaction(begin: "BEGIN", body)
    }

    // MARK: Statements

    /// Prepares `sql` on first use (its `?` become `$1...$n`), then runs it with `parameters` as text.
    private func executePrepared(_ sql: String, _ parameters: [SQLValue]) throws(PostgresError) -> OpaquePointer {
        guard let handle = self.handle else { throw .connectionLost("connection is closed") }
        let key = StatementKey(sql)
        let name: String
        if let known = self.prepared[key] {
            name = known
        } else {
            name = "s\(self.prepared.count + 1)"
            PQclear(try self.check(PQprepare(handle, name, Self.numberedPlaceholders(sql), 0, nil)))
            self.prepared[key] = name
        }
        // Every parameter NUL-terminated in one buffer (no copy per parameter); nil for SQL NULL.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        var offsets: [Int] = []
        offsets.reserveCapacity(parameters.count)
        for parameter in parameters {
            if case .null = parameter {
                offsets.append(-1)
                continue
            }
            offsets.append(bytes.count)
            Self.appendText(parameter, to: &bytes)
            bytes.append(0)
        }
        let result = bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            let values: [UnsafePointer<CChar>?] = offsets.map { offset in offset < 0 ? nil : base.map { $0 + offset } }
            return PQexecPrepared(handle, name, Int32(values.count), values, nil, nil, 0)
        }
        return try self.check(result)
    }

    /// The result when it succeeded; otherwise it is freed and its error thrown.
    private func check(_ result: OpaquePointer?) throws(PostgresError) -> OpaquePointer {
        if let result {
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK { return result }
        }
        let sqlState = result.flatMap { PQresultErrorField($0, clibpq_diag_sqlstate()) }.map { String(cString: $0) }
        let message = result.map { Self.trimmed(PQresultErrorMessage($0)) }.flatMap { $0.isEmpty ? nil : $0 }
            ?? Self.trimmed(PQerrorMessage(self.handle))
        PQclear(result)
        if let sqlState, !sqlState.isEmpty { throw PostgresError(sqlState: sqlState, message: message) }
        // No SQLSTATE: libpq failed on its side, which means the connection is gone ("server closed the
        // connection unexpectedly"), even when PQstatus has not noticed yet.
        throw .connectionLost(message.isEmpty ? "connection lost" : message)
    }

    /// A parameter (not NULL) in PostgreSQL's text input format, appended to `bytes`.
    static func appendText(_ value: SQLValue, to bytes: inout [UInt8]) {
        switch value {
        case .null: return
        case .int(let value): Self.appendDecimal(value, to: &bytes)
        case .double(let value):
            let text = value.isFinite ? value.description : (value.isNaN ? "NaN" : (value < 0 ? "-Infinity" : "Infinity"))
            bytes.append(contentsOf: text.utf8)
        case .text(let value): bytes.append(contentsOf: value.utf8)
        case .blob(let blob):
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(UInt8(ascii: "x"))
            for byte in blob {
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0x0f)])
            }
        }
    }

    /// `value` in decimal, without building a String.
    private static func appendDecimal(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        // The magnitude as unsigned, so that Int64.min has one too.
        var rest = value.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        bytes[start...].reverse()
    }

    /// `?` placeholders (outside quoted strings and identifiers) renumbered as `$1`, `$2`...
    static func numberedPlaceholders(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var index = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                out.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                out.append(character)
            } else if character == "?" {
                index += 1
                out += "$\(index)"
            } else {
                out.append(character)
            }
        }
        return out
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        message.map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    }
}

/// A statement's SQL as a dictionary key, hashed by its length and its last bytes only: hashing every byte of
/// a long statement on each call cost more than sending it. Equal keys still compare the whole text.
struct StatementKey: Hashable {
    let sql: String

    init(_ sql: String) {
        self.sql = sql
    }

    func hash(into hasher: inout Hasher) {
        let utf8 = self.sql.utf8
        hasher.combine(utf8.count)
        for byte in utf8.suffix(48) { hasher.combine(byte) }
    }
}

/// One row of a text-format result.
struct PostgresRow: SQLRow {
    let result: OpaquePointer
    let row: Int32

    func isNull(_ column: Int32) -> Bool { PQgetisnull(self.result, self.row, column) == 1 }
    func int64(_ column: Int32) -> Int64 { strtoll(PQgetvalue(self.result, self.row, column), nil, 10) }
    func double(_ column: Int32) -> Double { strtod(PQgetvalue(self.result, self.row, column), nil) }

    func text(_ column: Int32) -> String {
        guard let value = PQgetvalue(self.result, self.row, column) else { return "" }
        let count = Int(PQgetlength(self.result, self.row, column))
        return value.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }
}
