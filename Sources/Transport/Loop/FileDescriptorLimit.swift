import Glibc

/// The process's open-file limit (RLIMIT_NOFILE), which caps how many connections a server can hold: every
/// connection is a descriptor. Distributions start processes at a soft limit of 1,024 or a few thousand, far
/// below what one node can serve, so a server raises it itself at start.
public enum FileDescriptorLimit {
    /// The limit a server asks for: a million descriptors, or the kernel's `fs.nr_open` when lower.
    public static var wanted: UInt64 { min(1 << 20, Self.kernelMaximum ?? (1 << 20)) }

    /// What `raise` obtained.
    public struct Outcome: Sendable, Equatable {
        /// The soft limit in force afterwards: the most descriptors the process may open.
        public var soft: UInt64
        /// The hard limit in force afterwards.
        public var hard: UInt64
        /// The limit that was asked for.
        public var wanted: UInt64

        /// An outcome as `raise` reports it.
        public init(soft: UInt64, hard: UInt64, wanted: UInt64) {
            self.soft = soft
            self.hard = hard
            self.wanted = wanted
        }

        /// Whether the soft limit reached `wanted`.
        public var reachedWanted: Bool { self.soft >= self.wanted }

        /// One line for the log when the limit stays below `wanted`, nil otherwise.
        public func warning(program: String) -> String? {
            guard !self.reachedWanted else { return nil }
            return "\(program): open-file limit is \(self.soft) (hard limit \(self.hard); raising it to \(self.wanted) "
                + "needs root or CAP_SYS_RESOURCE, or `ulimit -Hn`): at most about \(self.soft) connections"
        }
    }

    /// Raises the soft limit to `wanted`: first the hard limit too (allowed with CAP_SYS_RESOURCE), else the
    /// soft limit up to the hard one (always allowed). Never lowers either. Returns nil when the limits
    /// cannot be read.
    @discardableResult
    public static func raise(to wanted: UInt64 = FileDescriptorLimit.wanted) -> Outcome? {
        guard var limit = Self.current() else { return nil }
        if limit.rlim_cur < wanted {
            var both = rlimit(rlim_cur: rlim_t(wanted), rlim_max: max(limit.rlim_max, rlim_t(wanted)))
            if setrlimit(Self.resource, &both) != 0 && limit.rlim_cur < limit.rlim_max {
                var soft = rlimit(rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max)
                _ = setrlimit(Self.resource, &soft)
            }
            limit = Self.current() ?? limit
        }
        return Outcome(soft: UInt64(limit.rlim_cur), hard: UInt64(limit.rlim_max), wanted: wanted)
    }

    /// Raises the limit (`raise`) and writes `Outcome.warning` to standard error when it stays lower.
    @discardableResult
    public static func raiseAndLog(program: String) -> Outcome? {
        let outcome = Self.raise()
        if let line = outcome?.warning(program: program) {
            let bytes = Array((line + "\n").utf8)
            _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
        return outcome
    }

    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)

    private static func current() -> rlimit? {
        var limit = rlimit()
        return getrlimit(Self.resource, &limit) == 0 ? limit : nil
    }

    /// `fs.nr_open`: no process may have a higher limit.
    private static var kernelMaximum: UInt64? {
        let fd = open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingWhitespace
        return UInt64(text).flatMap { $0 > 0 ? $0 : nil }
    }
}

private extension String {
    var trimmingWhitespace: String {
        String(self.filter { !$0.isWhitespace })
    }
}
