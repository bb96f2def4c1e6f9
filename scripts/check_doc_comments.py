#!/usr/bin/env python3
"""Checks that every `public` or `open` declaration under Sources/ has a `///` doc comment.

A declaration counts as documented when the nearest non-attribute line above it is a `///` line (or the end
of a `/** */` block). Members of a public type that only satisfy a protocol requirement (`description`,
`init(from:)`, `encode(to:)`, `hash(into:)`, `==`, `makeIterator`, the `Collection` indices…) are exempt:
their meaning is the protocol's. Prints each gap as `path:line: declaration` and exits 1 when there is one.
"""
import re
import sys
from pathlib import Path

DECLARATION = re.compile(
    r"^\s*(?:@[\w().:, \"*]+\s+)*(?:(?:public|open)(?:\s*\(set\))?\s+)(?:(?:final|static|class|override|mutating|nonmutating|"
    r"convenience|required|indirect|nonisolated|lazy|weak|unowned|dynamic|@[\w()]+)\s+)*"
    r"(func|var|let|init|subscript|class|struct|enum|protocol|actor|typealias|case|extension|associatedtype|macro)\b")
PROTOCOL_WITNESSES = re.compile(
    r"\b(var description\b|var debugDescription\b|init\(from decoder|func encode\(to encoder|func hash\(into|"
    r"static func ==|static func <|func makeIterator\(|var startIndex\b|var endIndex\b|func index\(after|"
    r"func index\(before|subscript\(position|init\((?:stringLiteral|integerLiteral|floatLiteral|booleanLiteral|"
    r"arrayLiteral|dictionaryLiteral|nilLiteral|unicodeScalarLiteral|extendedGraphemeClusterLiteral)|"
    r"func next\(\)|var errorDescription\b|init\?\(rawValue|var rawValue\b)")


def undocumented(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        match = DECLARATION.match(line)
        if not match or PROTOCOL_WITNESSES.search(line):
            continue
        # `public extension` declares nothing new by itself; its members are checked one by one.
        if match.group(1) == "extension":
            continue
        above = index - 1
        while above >= 0 and re.match(r"^\s*@\w", lines[above]) and "///" not in lines[above]:
            above -= 1
        previous = lines[above].strip() if above >= 0 else ""
        if previous.startswith("///") or previous.endswith("*/"):
            continue
        # An enum case listed on the same line as a documented one, e.g. `case a, b`, is covered by it.
        yield index + 1, line.strip()


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "Sources"
    gaps = 0
    for path in sorted(root.rglob("*.swift")):
        for number, text in undocumented(path):
            print(f"{path}:{number}: {text}")
            gaps += 1
    if gaps:
        print(f"{gaps} public declaration(s) without a /// doc comment", file=sys.stderr)
        return 1
    print("every public declaration under", root, "has a /// doc comment")
    return 0


if __name__ == "__main__":
    sys.exit(main())
