import FuzzSupport
import HTTPKit

/// Query strings, urlencoded forms and Cookie headers: decoding never crashes, and decoded pairs encode back to
/// text that decodes to the same pairs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzForms(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = fuzzBytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)

    let query = QueryParameters(parsing: text)
    let queryAgain = QueryParameters(parsing: query.encoded)
    require(queryAgain == query, "query \(query.pairs) came back as \(queryAgain.pairs)")

    let form = URLEncodedForm.parse(bytes)
    let formAgain = URLEncodedForm.parse(URLEncodedForm.serialize(form.pairs.map { ($0.name, $0.value) }))
    require(formAgain == form, "form \(form.pairs) came back as \(formAgain.pairs)")

    let decoded = PercentDecoding.decode(text, plusAsSpace: true)
    require(PercentDecoding.decode(PercentEncoding.encodeFormComponent(decoded), plusAsSpace: true) == decoded,
            "percent-encoding \(decoded) does not decode back")

    let cookies = Cookies.parse(text)
    for (name, _) in cookies { require(!name.isEmpty, "a cookie without a name") }
    return 0
}

@main
enum FuzzFormsMain {
    static func main() { runFuzzer(fuzzForms) }
}
