import FoundationEssentials

// The only Foundation use of the module: real file access behind the injectable closures.

extension ProxyCommandLine {
    /// Reads a UTF-8 (or, failing that, Latin-1) option file; throws ``OptionFileAccessError``.
    public static func defaultReadFile(_ path: String) throws -> String {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OptionFileAccessError.notFound(path)
        }
        guard !isDirectory else { throw OptionFileAccessError.unreadable(path, "is a directory") }
        guard let data = FileManager.default.contents(atPath: path) else {
            let why = FileManager.default.isReadableFile(atPath: path) ? "read error" : "permission denied"
            throw OptionFileAccessError.unreadable(path, why)
        }
        // MariaDB reads bytes; legacy files may be Latin-1, which always decodes.
        return String(data: data, encoding: .utf8) ?? String(data: data, encoding: .isoLatin1) ?? ""
    }

    /// Lists the entry names (not paths) of a directory; throws ``OptionFileAccessError``.
    public static func defaultListDirectory(_ path: String) throws -> [String] {
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw OptionFileAccessError.notFound(path)
        }
        guard isDirectory else { throw OptionFileAccessError.unreadable(path, "not a directory") }
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw OptionFileAccessError.unreadable(path, "permission denied")
        }
    }
}

/// A failure of a `readFile`/`listDirectory` closure, reduced to what messages need.
struct FileAccessFailure {
    var isNotFound: Bool
    var explanation: String

    init(_ error: any Error) {
        switch error {
        case let access as OptionFileAccessError:
            isNotFound = access.reason == .notFound
            explanation = access.explanation
        case let cocoa as CocoaError where cocoa.code == .fileNoSuchFile || cocoa.code == .fileReadNoSuchFile:
            isNotFound = true
            explanation = "not found"
        case let posix as POSIXError where posix.code == .ENOENT:
            isNotFound = true
            explanation = "not found"
        default:
            isNotFound = false
            explanation = String(describing: error)
        }
    }
}
