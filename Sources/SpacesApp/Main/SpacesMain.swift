import EngineIO
import Foundation
import Transport

/// `spaces [--host H] [--port P] [--data-dir D]`: the SpacesApp server.
@main
struct SpacesMain {
    static func main() async {
        let flags = CommandLineFlags.parseOrExit(program: "spaces", accepting: SpacesConfig.acceptedFlags)
        if flags.has("help") {
            print(SpacesConfig.usage, terminator: "")
            exit(0)
        }
        let config = SpacesConfig(flags: flags)
        Log.verbose = config.verbose
        // A write past the file-size limit (RLIMIT_FSIZE) then fails with EFBIG, which the store answers as
        // 503 storage_full, instead of the signal killing the server.
        signal(SIGXFSZ, SIG_IGN)
        let server: SpacesServer
        let adminLines: [String]
        do {
            server = try SpacesServer(config: config)
            adminLines = try await server.bootstrapAdmin()
        } catch {
            FileHandle.standardError.write(Data("spaces: cannot start: \(error)\n".utf8))
            exit(1)
        }
        // Scripts read stdout up to the "listening" line; everything later goes to stderr.
        let port = server.app.port
        let host = config.host == "0.0.0.0" || config.host == "::" ? "localhost" : config.host
        var out = adminLines.map { "spaces: " + $0 }.joined(separator: "\n") + "\n"
        out += "spaces: log in at \(config.tlsCertificate == nil ? "http" : "https")://\(host):\(port)/login\n"
        out += "spaces listening on port \(port)\n"
        FileHandle.standardOutput.write(Data(out.utf8))

        do {
            try await server.run()
        } catch {
            FileHandle.standardError.write(Data("spaces: \(error)\n".utf8))
            exit(1)
        }
        exit(0)
    }
}
