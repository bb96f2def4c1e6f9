/// How a session's polling bodies are written, fixed by its handshake query.
struct EnginePollingFlavor: Sendable {
    /// `j=<n>`: answers are JSONP scripts calling `___eio[n]`, POSTs are `d=` form fields.
    var jsonpIndex: String?
    /// `b64=1` (v3): binary packets go base64 in the text form, never in the binary form.
    var base64Only = false

    init() {}
}
