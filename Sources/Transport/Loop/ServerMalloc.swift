import CEngineIOShims
import Glibc

/// glibc malloc settings for a long-running server, made once at start, before its loops run.
///
/// - Large freed buffers go straight back to the system (`OutputBudget.returnLargeBuffersToTheSystem`).
/// - At most one malloc arena per core (at least two). glibc gives a thread that starts while the others
///   hold their arenas a new one, up to eight per core, and each arena keeps the memory freed into it. A
///   server's loops are long-lived, but Dispatch starts and ends its pool threads as work comes and goes
///   (spaces' core queue, password hashing): the soak saw spaces' RSS step up by 8 MB (+17 % of its
///   working set) minutes into a steady load, when a pool thread started and filled an arena of its own;
///   with this cap the same run stayed flat. More arenas than threads that can run at once buy no speed.
///   `MALLOC_ARENA_MAX` (or `GLIBC_TUNABLES=glibc.malloc.arena_max=N`) in the environment wins.
public enum ServerMalloc {
    /// Applies both settings; call first thing in a server's start.
    public static func configure() {
        OutputBudget.returnLargeBuffersToTheSystem()
        Self.boundArenas()
    }

    /// The arena cap `configure` sets: the number of online cores, at least two.
    public static var arenaLimit: Int { max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Caps the arenas at `arenaLimit`, unless the environment already chose a cap.
    public static func boundArenas() {
        if getenv("MALLOC_ARENA_MAX") != nil { return }
        if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("arena_max") { return }
        _ = ceio_set_arena_max(Int32(clamping: Self.arenaLimit))
    }
}
