import Foundation
import XCTest

extension XCTestCase {
    /// Polls `condition` every 20 ms for at most 10 s; fails the test if it never held.
    func eventually(_ condition: () async -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
        let deadline = Date(timeIntervalSinceNow: 10)
        while Date() < deadline {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("condition never held", file: file, line: line)
    }
}
