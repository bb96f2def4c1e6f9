/// Where the files that every node of a cluster must see live: uploads (request files and worker results),
/// space covers, and the key that signs login cookies. By default all in the data folder, as on one machine;
/// `--uploads-dir` (a shared file system) and `--session-key` move them where every node reaches them.
struct SharedFiles: Sendable {
    /// One folder per request, named by its id.
    let uploads: String
    /// Space cover images: in the uploads folder when that is shared, so every node serves them.
    let covers: String
    /// The login-cookie key file.
    let sessionKey: String

    init(config: SpacesConfig) {
        let data = config.dataDirectory
        if let shared = config.uploadsDirectory.map({ $0.hasSuffix("/") && $0.count > 1 ? String($0.dropLast()) : $0 }) {
            self.uploads = shared
            self.covers = shared + "/covers"
        } else {
            self.uploads = data + "/uploads"
            self.covers = data + "/covers"
        }
        self.sessionKey = config.sessionKeyFile ?? data + "/session.key"
    }
}
