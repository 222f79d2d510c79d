// FuzzOptionFile: arbitrary bytes as an option file and as a command line.
//
// 1. The bytes are the file named by `--defaults-file=/fuzz/main.cnf`, read through the `readFile`
//    closure (decoded as the daemon decodes files: UTF-8, else Latin-1). Included files: the main
//    file itself (a cycle), `…/nest….cnf` (includes itself one directory deeper, to the depth
//    limit), `…missing…` (not found), `…locked…` (unreadable), any other a small valid file;
//    `!includedir` lists a few names, some not `*.cnf`.
// 2. The bytes split on NUL are the arguments (argv without argv[0]); every option file they
//    name (and the standard one) is a small valid file.
// A thrown ConfigurationError is an expected outcome; only a trap is a finding.
import CLibFuzzer
import FuzzSupport
import ProxyConfiguration

#if canImport(Glibc)
import Glibc
#endif

let mainFile = "/fuzz/main.cnf"
let standardFile = """
    [mariadb-tls-proxy]
    backend_host = 127.0.0.1
    backend_port = 3307
    """
let includedFile = """
    [client]
    user = someone
    [mariadb-tls-proxy]
    max_connections = 20
    """

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let text = fileText(input)

    var reads = 0
    let asFile = Result { () throws(ConfigurationError) in
        try ProxyCommandLine.parseWithWarnings(
            ["--defaults-file=\(mainFile)"],
            readFile: { path in
                reads += 1
                guard reads <= 32 else { throw OptionFileAccessError.notFound(path) }
                if path == mainFile { return text }
                if path.contains("missing") { throw OptionFileAccessError.notFound(path) }
                if path.contains("locked") { throw OptionFileAccessError.unreadable(path, "permission denied") }
                if path.hasSuffix(".cnf"), path.split(separator: "/").last?.hasPrefix("nest") == true {
                    return "[mariadb-tls-proxy]\n!include nest/nest.cnf\n"
                }
                return includedFile
            },
            listDirectory: { path in
                guard path.hasPrefix("/") else { throw OptionFileAccessError.notFound(path) }
                return ["20-b.cnf", "10-a.cnf", "README", "x.cnf.bak"]
            }
        )
    }
    fuzzTrace("as option file: \(asFile)")

    let arguments = input.split(separator: 0, omittingEmptySubsequences: false).map { fileText($0) }
    let asArguments = Result { () throws(ConfigurationError) in
        try ProxyCommandLine.parseWithWarnings(
            arguments,
            readFile: { _ in standardFile },
            listDirectory: { path in throw OptionFileAccessError.notFound(path) }
        )
    }
    fuzzTrace("as arguments \(arguments.count): \(asArguments)")
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data, size)
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
