import Foundation

/// Moves received files into place. The uploads folder may be a shared file system other than the data folder
/// (`--uploads-dir`), where `rename` cannot reach: the file is then copied next to its target and renamed there,
/// so readers on other nodes never see half of it.
enum FileMove {
    /// Moves `source` to `target`; false (and no file at `target`) when neither a rename nor a copy worked.
    static func move(_ source: String, to target: String) -> Bool {
        if rename(source, target) == 0 { return true }
        guard errno == EXDEV else { return false }
        let partial = target + ".partial-\(getpid())"
        do {
            try FileManager.default.copyItem(atPath: source, toPath: partial)
        } catch {
            unlink(partial)
            return false
        }
        guard rename(partial, target) == 0 else {
            unlink(partial)
            return false
        }
        unlink(source)
        return true
    }
}
