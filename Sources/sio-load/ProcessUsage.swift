import Glibc

/// CPU and memory figures read from the kernel: this process (getrusage), the server (`/proc/<pid>/stat`
/// and `status`), and the whole machine (`/proc/stat`). Read the same way `sioload` reads them, so the
/// two generators' server figures are comparable.
enum ProcessUsage {
    /// CPU seconds (user + system) of the server: every process of session `sid`, or the one process `pid`.
    struct ServerSample: Sendable {
        var cpuSeconds = 0.0
        var rssKB = 0
        var processes = 0
    }

    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// User + system CPU seconds of this process, all threads.
    static func selfCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Samples the server: the session when `sid` > 0, else the process when `pid` > 0, else nothing.
    static func server(sid: Int32, pid: Int32) -> ServerSample {
        var sample = ServerSample()
        if sid > 0 {
            guard let dir = opendir("/proc") else { return sample }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                guard let first = name.utf8.first, first >= 0x30, first <= 0x39 else { continue }
                guard let stat = Self.readStat("/proc/\(name)/stat"), stat.session == sid else { continue }
                sample.processes += 1
                sample.cpuSeconds += stat.cpuSeconds
                sample.rssKB += Self.rssKB("/proc/\(name)/status")
            }
        } else if pid > 0, let stat = Self.readStat("/proc/\(pid)/stat") {
            sample.processes = 1
            sample.cpuSeconds = stat.cpuSeconds
            sample.rssKB = Self.rssKB("/proc/\(pid)/status")
        }
        return sample
    }

    /// Busy CPU seconds of the whole machine (all cores) from `/proc/stat`: user, nice, system, irq,
    /// softirq and steal (guest time is already in user).
    static func machineBusySeconds() -> Double {
        guard let text = Self.readFile("/proc/stat", limit: 512) else { return 0 }
        guard let line = text.split(separator: "\n", maxSplits: 1).first, line.hasPrefix("cpu ") else { return 0 }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 8 else { return 0 }
        return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / Self.ticksPerSecond
    }

    /// Online processors.
    static var processorCount: Int { sysconf(Int32(_SC_NPROCESSORS_ONLN)) }

    // MARK: /proc parsing

    private struct Stat {
        var session: Int32
        var cpuSeconds: Double
    }

    /// The session and utime + stime of `/proc/<pid>/stat`; nil for a zombie or an unreadable file. The
    /// fields are counted after the last `)`, since the command name may contain spaces and parentheses.
    private static func readStat(_ path: String) -> Stat? {
        guard let text = Self.readFile(path, limit: 1024), let close = text.utf8.lastIndex(of: UInt8(ascii: ")")) else {
            return nil
        }
        let rest = text[text.utf8.index(after: close)...].split(separator: " ")
        // rest[0] = state (field 3), [3] = session (6), [11] = utime (14), [12] = stime (15)
        guard rest.count > 12, rest[0] != "Z", let session = Int32(rest[3]), let user = Double(rest[11]),
              let system = Double(rest[12]) else { return nil }
        return Stat(session: session, cpuSeconds: (user + system) / Self.ticksPerSecond)
    }

    private static func rssKB(_ path: String) -> Int {
        guard let text = Self.readFile(path, limit: 4096) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) } ?? 0
        }
        return 0
    }

    private static func readFile(_ path: String, limit: Int) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: limit)
        var used = 0
        while used < limit {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + used, limit - used) }
            if n <= 0 { break }
            used += n
        }
        guard used > 0 else { return nil }
        return String(decoding: bytes[..<used], as: UTF8.self)
    }
}
