// Placeholder until the Socket.IO server lands: prints usage and exits.
@main
struct SIOEcho {
    static func main() {
        print("sio-echo: not implemented yet")
    }
}
