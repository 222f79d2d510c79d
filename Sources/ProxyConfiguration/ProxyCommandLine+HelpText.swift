extension ProxyCommandLine {
    /// Usage plus every option with its default and a one-line description, generated from the option table.
    public static let helpText: String = {
        let general: [(label: String, summary: String)] = [
            ("--defaults-file=PATH", "Read options from PATH instead of \(defaultOptionFile)."),
            ("--no-defaults", "Read no option file; use only the command line."),
            ("--check", "Validate the configuration and exit without starting the proxy."),
            ("-?, --help", "Show this help and exit."),
            ("-V, --version", "Show the version and exit."),
        ]
        let options: [(label: String, summary: String)] = OptionCatalog.all.map { spec in
            let placeholder = spec.kind.placeholder
            let label = spec.commandLineName + (placeholder.isEmpty ? "" : "=" + placeholder)
            return (label, "\(spec.summary) (default: \(spec.displayedDefault))")
        }
        let width = (general + options).map(\.label.count).max()! + 2

        func rows(_ rows: [(label: String, summary: String)]) -> String {
            rows.map { "  " + $0.label.padding(to: width) + $0.summary }.joined(separator: "\n")
        }

        return """
            Usage: mariadb-tls-proxy [--defaults-file=PATH | --no-defaults] [OPTION[=VALUE] ...] [--check]

            Accepts MariaDB clients, terminates their in-band TLS, and relays the sessions to a plaintext
            MariaDB server.

            Options are read from the [\(optionGroup)] group of \(defaultOptionFile)
            (skipped if missing) or of --defaults-file, then from the command line, which wins.
            In option files write "name = value" without the leading "--". '-' and '_' are
            interchangeable. Boolean options accept ON/OFF, TRUE/FALSE, YES/NO, 1/0, and the forms
            --NAME, --skip-NAME, --disable-NAME and --enable-NAME. A "loose-" prefix turns an unknown
            option into a warning. "--NAME VALUE" works like "--NAME=VALUE".

            General options:
            \(rows(general))

            Proxy options:
            \(rows(options))

            """
    }()
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
