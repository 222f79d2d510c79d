/// The result of ``ProxyCommandLine/parseWithWarnings(_:readFile:listDirectory:)``:
/// the request plus the non-fatal findings the daemon should log at startup.
///
/// Warnings are separate from ``CommandLineRequest`` so that `parse` keeps its simple shape;
/// each warning is one line prefixed with its location, like a ``ConfigurationError``, e.g.
/// `/etc/x.cnf:7: ignoring unknown option 'loose-foo'`.
public struct ParsedCommandLine: Sendable, Equatable {
    public var request: CommandLineRequest
    public var warnings: [String]

    public init(request: CommandLineRequest, warnings: [String] = []) {
        self.request = request
        self.warnings = warnings
    }
}
