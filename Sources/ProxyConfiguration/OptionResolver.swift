/// What one assignment amounts to after the name and value were checked.
enum OptionResolution {
    /// Store `value` into the option `spec`.
    case set(OptionSpec, OptionValue)
    /// A `loose-` option nobody knows: MariaDB warns and carries on.
    case ignored(warning: String)
}

/// Turns a written `name[=value]` into an option and a typed value, following MariaDB's `my_getopt`:
/// `-`/`_` are interchangeable, `loose-` makes an unknown option a warning, and `skip-`/`disable-`/`enable-`
/// switch boolean options.
enum OptionResolver {
    /// Decides how suggestions are spelled: `port` in files, `--port` on the command line.
    enum Style {
        case optionFile, commandLine
    }

    private static let loosePrefix = "loose_"
    private static let switchPrefixes: [(prefix: String, value: Bool)] = [
        ("skip_", false), ("disable_", false), ("enable_", true),
    ]

    /// The option behind a written name and the boolean a `skip-`/`enable-` prefix implies, if any.
    private struct Lookup {
        var isLoose = false
        /// The canonical name once `loose-` is removed (what was looked up first).
        var baseName: String
        var spec: OptionSpec?
        /// `false` for `skip-`/`disable-`, `true` for `enable-`.
        var switchValue: Bool?
        /// The switch prefix exactly as written (`skip-`, `disable_` …), for messages.
        var writtenSwitchPrefix = ""
    }

    private static func lookUp(_ writtenName: String) -> Lookup {
        var name = writtenName.underscored
        var looseLength = 0
        if name.hasPrefix(loosePrefix) {
            looseLength = loosePrefix.count
            name.removeFirst(looseLength)
        }
        var lookup = Lookup(isLoose: looseLength > 0, baseName: name, spec: OptionCatalog.named(name))
        // Prefixes are only considered when the full name is not itself an option (as my_getopt does).
        if lookup.spec == nil, let (prefix, value) = switchPrefixes.first(where: { name.hasPrefix($0.prefix) }) {
            if let spec = OptionCatalog.named(String(name.dropFirst(prefix.count))) {
                lookup.spec = spec
                lookup.switchValue = value
                lookup.writtenSwitchPrefix = String(writtenName.dropFirst(looseLength).prefix(prefix.count))
            }
        }
        return lookup
    }

    /// Whether `--name value` (without `=`) should take the next argument as the value.
    static func takesValue(_ writtenName: String) -> Bool {
        let lookup = lookUp(writtenName)
        guard let spec = lookup.spec, lookup.switchValue == nil else { return false }
        return spec.kind != .boolean
    }

    static func resolve(_ assignment: OptionAssignment, style: Style) throws(ConfigurationError) -> OptionResolution {
        let source = assignment.source
        let display = assignment.displayName
        let lookup = lookUp(assignment.name)

        guard let spec = lookup.spec else {
            if lookup.isLoose {
                return .ignored(warning: "\(source): ignoring unknown option '\(display)'")
            }
            throw ConfigurationError(
                at: source,
                "unknown option '\(display)'" + suggestion(for: assignment, style: style)
            )
        }

        if let switchValue = lookup.switchValue {
            guard spec.kind == .boolean else {
                throw ConfigurationError(
                    at: source,
                    "option '\(display)': the '\(lookup.writtenSwitchPrefix)' prefix only applies to boolean options"
                )
            }
            guard assignment.value == nil else {
                throw ConfigurationError(at: source, "option '\(display)' does not take a value")
            }
            return .set(spec, .boolean(switchValue))
        }

        guard let raw = assignment.value else {
            // MariaDB: a bare boolean means ON; every other kind needs `=value`.
            guard spec.kind == .boolean else {
                throw ConfigurationError(at: source, "option '\(display)' requires a value")
            }
            return .set(spec, .boolean(true))
        }
        do throws(ConfigurationProblem) {
            return .set(spec, try spec.kind.parse(raw))
        } catch {
            throw ConfigurationError(at: source, "option '\(display)': \(error.text)")
        }
    }

    /// `"; did you mean 'port'?"`, or the empty string when nothing is close enough.
    private static func suggestion(for assignment: OptionAssignment, style: Style) -> String {
        func spelled(_ name: String, prefix: String = "") -> String {
            style == .commandLine ? "--\(prefix)\(name.dashed)" : "\(prefix)\(name)"
        }

        // `port 3307` in a file: the `=` was forgotten.
        if style == .optionFile, assignment.value == nil,
            let blank = assignment.name.unicodeScalars.firstIndex(where: \.isOptionFileSpace)
        {
            let key = String(assignment.name.unicodeScalars[..<blank])
            if OptionCatalog.named(key.underscored) != nil {
                let rest = String(assignment.name.unicodeScalars[blank...]).trimmingSpaces()
                return "; did you mean '\(key) = \(rest)'?"
            }
        }

        let lookup = lookUp(assignment.name)
        var best = OptionCatalog.closest(to: lookup.baseName).map {
            (text: spelled($0.spec.name), distance: $0.distance)
        }
        // `skip-requre-secure-transport`: compare what follows the prefix with the boolean options.
        if let (prefix, _) = switchPrefixes.first(where: { lookup.baseName.hasPrefix($0.prefix) }) {
            let rest = String(lookup.baseName.dropFirst(prefix.count))
            let booleans = OptionCatalog.all.filter { $0.kind == .boolean }
            if let match = OptionCatalog.closest(to: rest, among: booleans), match.distance < (best?.distance ?? .max) {
                let written = style == .commandLine ? prefix.dashed : prefix
                best = (spelled(match.spec.name, prefix: written), match.distance)
            }
        }
        return best.map { "; did you mean '\($0.text)'?" } ?? ""
    }
}
