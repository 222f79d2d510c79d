/// What the command line asks the daemon to do.
public enum CommandLineRequest: Sendable, Equatable {
    /// Run the proxy with these settings; `checkOnly` (from `--check`) means validate and exit instead.
    case run(ProxySettings, checkOnly: Bool)
    /// `--help` or `-?`: print ``ProxyCommandLine/helpText`` and exit.
    case help
    /// `--version` or `-V`: print the version and exit.
    case version
    /// `--help-man` (hidden, as in kingpin): print ``ProxyCommandLine/manPage(version:)``, the roff
    /// source of mariadb-tls-proxy(8), and exit. Packaging builds the installed man page from it.
    case manPage
}
