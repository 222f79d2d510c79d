/// One row of the option table: everything the parser, the defaults, `--help` and the docs need
/// to know about an option. ``OptionCatalog/all`` is the single source of truth built from these.
struct OptionSpec: Sendable {
    /// Canonical spelling, lowercase with underscores as in MariaDB's server variables (`bind_address`).
    let name: String
    let kind: OptionKind
    /// The default as it would be written in an option file; `nil` means unset ("none").
    /// ``SettingsDraft`` applies these strings, so the table really is where defaults live.
    let defaultValue: String?
    /// The MariaDB server variable the option mirrors, or `nil` for proxy-specific options.
    let mariaDBVariable: String?
    /// One line for `--help`.
    let summary: String
    /// How `--help` and the man page show a default that depends on other options.
    var defaultDescription: String? = nil
    /// Stores a value of ``kind`` into the draft.
    let apply: @Sendable (inout SettingsDraft, OptionValue) -> Void

    /// The command-line spelling: `--` plus the name with dashes, as MariaDB's `--help` prints it.
    var commandLineName: String { "--" + name.dashed }

    /// The default as shown to people: `none` for an unset text option.
    var displayedDefault: String { defaultDescription ?? defaultValue ?? "none" }
}

extension OptionSpec {
    // Typed factories: each row's setter receives exactly the Swift type its kind produces.

    static func boolean(
        _ name: String,
        default value: Bool,
        mariaDB: String?,
        _ summary: String,
        set: @escaping @Sendable (inout SettingsDraft, Bool) -> Void
    ) -> OptionSpec {
        OptionSpec(
            name: name,
            kind: .boolean,
            defaultValue: value ? "ON" : "OFF",
            mariaDBVariable: mariaDB,
            summary: summary
        ) { draft, value in
            if case .boolean(let flag) = value { set(&draft, flag) }
        }
    }

    static func integer(
        _ name: String,
        _ range: ClosedRange<Int>,
        default value: Int,
        mariaDB: String?,
        _ summary: String,
        set: @escaping @Sendable (inout SettingsDraft, Int) -> Void
    ) -> OptionSpec {
        OptionSpec(
            name: name,
            kind: .integer(range),
            defaultValue: String(value),
            mariaDBVariable: mariaDB,
            summary: summary
        ) { draft, value in
            if case .integer(let number) = value { set(&draft, number) }
        }
    }

    static func text(
        _ name: String,
        placeholder: String,
        mariaDB: String?,
        _ summary: String,
        set: @escaping @Sendable (inout SettingsDraft, String?) -> Void
    ) -> OptionSpec {
        OptionSpec(
            name: name,
            kind: .text(placeholder: placeholder),
            defaultValue: nil,
            mariaDBVariable: mariaDB,
            summary: summary
        ) { draft, value in
            if case .text(let text) = value { set(&draft, text) }
        }
    }
}

extension String {
    /// `bind_address` → `bind-address`.
    var dashed: String { String(map { $0 == "_" ? "-" : $0 }) }
    /// `bind-address` → `bind_address`: MariaDB treats `-` and `_` in option names alike.
    var underscored: String { String(map { $0 == "-" ? "_" : $0 }) }
}
