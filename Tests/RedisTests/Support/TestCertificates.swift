import Foundation

/// A throwaway CA and a server certificate it signed (for 127.0.0.1 and localhost), made with the openssl
/// command line in `directory`.
struct TestCertificates {
    let caFile: String
    let certificateFile: String
    let keyFile: String

    init(in directory: String) throws {
        self.caFile = directory + "/ca.crt"
        self.certificateFile = directory + "/server.crt"
        self.keyFile = directory + "/server.key"
        let extensions = directory + "/server.ext"
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: extensions, atomically: true, encoding: .utf8)
        let curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + curve + ["-keyout", directory + "/ca.key", "-out", self.caFile,
                                                    "-days", "2", "-subj", "/CN=Redis Test CA"])
        try Self.openssl(["req"] + curve + ["-keyout", self.keyFile, "-out", directory + "/server.csr", "-subj", "/CN=localhost"])
        try Self.openssl(["x509", "-req", "-in", directory + "/server.csr", "-CA", self.caFile, "-CAkey", directory + "/ca.key",
                          "-CAcreateserial", "-out", self.certificateFile, "-days", "2", "-extfile", extensions])
    }

    private static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw RedisServerError.exited("openssl \(arguments.first ?? "") failed") }
    }
}
