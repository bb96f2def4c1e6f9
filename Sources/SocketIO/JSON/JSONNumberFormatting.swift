/// Writes numbers exactly as JavaScript's `Number.prototype.toString` (and so
/// `JSON.stringify`) does, so that peers comparing or hashing payload text see
/// the same bytes a Node.js server would send.
enum JSONNumberFormatting {
    /// Appends the decimal digits of an integer.
    static func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { output.append(0x2D) }
        if magnitude < 10 {
            output.append(0x30 &+ UInt8(magnitude))
            return
        }
        // 20 digits cover UInt64.max; digits are produced backwards then copied once.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var index = 20
            while magnitude > 0 {
                index -= 1
                scratch[index] = 0x30 &+ UInt8(magnitude % 10)
                magnitude /= 10
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[index..<20]))
        }
    }

    /// Appends a double in JavaScript's format; non-finite values become `null`
    /// because that is what `JSON.stringify` emits for them.
    static func appendDouble(_ value: Double, to output: inout [UInt8]) {
        guard value.isFinite else {
            output.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
            return
        }
        if value == 0 {
            // Covers -0 too: JavaScript prints it as "0".
            output.append(0x30)
            return
        }
        if let exact = Int64(exactly: value), exact.magnitude <= 9_007_199_254_740_992 {
            // Below 2^53 every integer is representable, so its exact digits are
            // also the shortest round-trip digits JS prints. Larger ones are not
            // (JS prints 2^60 as 1152921504606847000), so they take the general path.
            appendInteger(exact, to: &output)
            return
        }
        // Swift's description yields the shortest round-trip digits; only its
        // layout (where it switches to exponent form, "e-07" vs "e-7") differs
        // from JS, so extract digits and exponent and lay them out the JS way.
        // The description of a finite Double is a small string (at most ~24
        // bytes), so the digits fit a stack buffer and nothing is heap-allocated.
        let negative = value < 0
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { digits in
            var count = 0
            var pointPosition = 0 // digits before the decimal point in the mantissa
            var sawPoint = false
            var exponent = 0
            var exponentNegative = false
            var inExponent = false
            for byte in value.magnitude.description.utf8 {
                if inExponent {
                    switch byte {
                    case 0x2D: exponentNegative = true
                    case 0x2B: break
                    default: exponent = exponent * 10 + Int(byte &- 0x30)
                    }
                } else if byte == 0x2E {
                    sawPoint = true
                } else if byte == 0x65 || byte == 0x45 {
                    inExponent = true
                } else if count < digits.count {
                    digits[count] = byte
                    count += 1
                    if !sawPoint { pointPosition += 1 }
                }
            }
            if exponentNegative { exponent = -exponent }
            var n = pointPosition + exponent // value = 0.d1d2…dk × 10^n
            var start = 0
            while start < count, digits[start] == 0x30 {
                start += 1
                n -= 1
            }
            var end = count
            while end > start, digits[end - 1] == 0x30 { end -= 1 }
            layOut(
                UnsafeBufferPointer(rebasing: digits[start..<end]),
                pointPosition: n,
                negative: negative,
                to: &output
            )
        }
    }

    /// Writes significant digits `d1…dk` with value 0.d1…dk × 10^n following
    /// the ECMAScript Number::toString rules.
    private static func layOut(
        _ significant: UnsafeBufferPointer<UInt8>,
        pointPosition n: Int,
        negative: Bool,
        to output: inout [UInt8]
    ) {
        let k = significant.count
        if negative { output.append(0x2D) }
        guard k > 0 else {
            output.append(0x30)
            return
        }
        if k <= n, n <= 21 {
            output.append(contentsOf: significant)
            output.append(contentsOf: repeatElement(0x30, count: n - k))
        } else if 0 < n, n <= 21 {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: significant[0..<n]))
            output.append(0x2E)
            output.append(contentsOf: UnsafeBufferPointer(rebasing: significant[n..<k]))
        } else if -6 < n, n <= 0 {
            output.append(0x30)
            output.append(0x2E)
            output.append(contentsOf: repeatElement(0x30, count: -n))
            output.append(contentsOf: significant)
        } else {
            output.append(significant[0])
            if k > 1 {
                output.append(0x2E)
                output.append(contentsOf: UnsafeBufferPointer(rebasing: significant[1..<k]))
            }
            output.append(0x65)
            let e = n - 1
            output.append(e < 0 ? 0x2D : 0x2B)
            appendInteger(Int64(e.magnitude), to: &output)
        }
    }
}
