import EngineIO
import Foundation
import SocketIO
import Transport

/// The Redis side of `sio-echo --redis`. Temporary until branch redis-adapter is merged: says so and exits.
enum ClusterRedis {
    static func join(flags: CommandLineFlags) -> ClusterConnection? {
        guard flags.string("redis", env: "SIO_REDIS") != nil else { return nil }
        FileHandle.standardError.write(Data("sio-echo: --redis needs the SocketIORedis target\n".utf8))
        exit(2)
    }
}

struct ClusterConnection {
    var adapterFactory: SocketAdapterFactory
    func close() {}
}
