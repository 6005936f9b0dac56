/// A secret value (access token, client secret). Printing, interpolating, `dump`ing or reflecting it
/// shows `<redacted>`; the value is reached only through `withValue` / `exposedValue`, at the one place
/// that puts it on the wire. It is deliberately not `Codable`.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The value, for the code that sends it. Never log or store it.
    public var exposedValue: String { value }

    public func withValue<T>(_ body: (String) throws -> T) rethrows -> T { try body(value) }

    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: nil) }
}
