/// Known headers' values as bytes in place, for checks that run on every request of a kind (a WebSocket
/// upgrade reads four fields): no String per value.
extension HTTPHeaders {
    /// Whether any field of the known header `name` has a value for which `test` is true.
    func anyValue(of name: HTTPHeaderName, _ test: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        guard name != .other else { return false }
        return self.bytes.withUnsafeBufferPointer { all in
            self.entries.contains { entry in
                entry.name == name && test(Self.value(of: entry, in: all))
            }
        }
    }

    /// `hasToken(_:in:)` for a token spelled in the code, in lower case (the server asks every request
    /// with an `Upgrade` field whether `Connection` lists `upgrade`).
    func listsToken(_ token: StaticString, in name: HTTPHeaderName) -> Bool {
        self.anyValue(of: name) { ASCIICase.listContains($0, token) }
    }

    /// Whether the first field of the known header `name` has the value `expected`, ignoring ASCII case:
    /// `self[name]?.asciiCaseInsensitiveEquals(expected) == true` without a String for the value (the
    /// Engine.IO server asks it of every WebSocket upgrade).
    public func firstValue(of name: HTTPHeaderName, equalsIgnoringCase expected: StaticString) -> Bool {
        guard name != .other, let entry = self.entries.first(where: { $0.name == name }) else { return false }
        return self.bytes.withUnsafeBufferPointer { all in
            ASCIICase.equal(Self.value(of: entry, in: all),
                            UnsafeBufferPointer(start: expected.utf8Start, count: expected.utf8CodeUnitCount))
        }
    }

    /// `body` with the first value of each of three known headers (nil for one that is absent).
    func withFirstValues<R>(
        _ first: HTTPHeaderName, _ second: HTTPHeaderName, _ third: HTTPHeaderName,
        _ body: (UnsafeBufferPointer<UInt8>?, UnsafeBufferPointer<UInt8>?, UnsafeBufferPointer<UInt8>?) -> R
    ) -> R {
        self.bytes.withUnsafeBufferPointer { all in
            var values: (UnsafeBufferPointer<UInt8>?, UnsafeBufferPointer<UInt8>?, UnsafeBufferPointer<UInt8>?)
            for entry in self.entries where entry.name != .other {
                if entry.name == first, values.0 == nil {
                    values.0 = Self.value(of: entry, in: all)
                } else if entry.name == second, values.1 == nil {
                    values.1 = Self.value(of: entry, in: all)
                } else if entry.name == third, values.2 == nil {
                    values.2 = Self.value(of: entry, in: all)
                }
            }
            return body(values.0, values.1, values.2)
        }
    }

    private static func value(of entry: Entry, in all: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: all[entry.valueStart..<entry.valueStart + Int(entry.valueLength)])
    }
}
