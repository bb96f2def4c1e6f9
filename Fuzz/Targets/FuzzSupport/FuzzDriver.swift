import CLibFuzzer
import Glibc

/// Runs libFuzzer with this process's command line on `testOne`, and exits with its status.
///
/// SwiftPM gives every executable its own `main`, so a target cannot rely on libFuzzer's: its `@main` calls this.
public func runFuzzer(_ testOne: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv, testOne)
    exit(status)
}

/// Stops the run with `message` when a property does not hold: libFuzzer records the input as a crash.
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("property broken: \(message())") }
}

/// The input as a Swift array (empty when libFuzzer passes no bytes).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// An input split into a control byte (the first; 0 when empty) and the bytes the parser reads.
///
/// Targets use the control byte for their settings (chunk size, role, limits) so that libFuzzer mutates those too.
public func splitControl(_ bytes: [UInt8]) -> (control: UInt8, body: [UInt8]) {
    guard let first = bytes.first else { return (0, []) }
    return (first, Array(bytes.dropFirst()))
}

/// `bytes` cut into pieces of `size` (at least 1), as a peer's writes would arrive in several reads.
public func chunks(_ bytes: [UInt8], size: Int) -> [ArraySlice<UInt8>] {
    let step = max(1, size)
    return stride(from: 0, to: bytes.count, by: step).map { bytes[$0..<min($0 + step, bytes.count)] }
}
