#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one piece of I/O in this module: reading a policy file as UTF-8 text.
enum PolicyFileReader {
    struct Failure: Error {
        let message: String
    }

    /// Larger than any sane accounts file; stops a mistaken path (a device, a huge log) early.
    static let maximumSize = 64 * 1024 * 1024

    static func read(path: String) throws(Failure) -> String {
        guard let file = fopen(path, "rb") else {
            throw Failure(message: "cannot open the policy file: \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if bytes.count > maximumSize {
                throw Failure(message: "the policy file is larger than \(maximumSize) bytes")
            }
            if count < chunk.count {
                if ferror(file) != 0 {
                    throw Failure(message: "cannot read the policy file: \(String(cString: strerror(errno)))")
                }
                break
            }
        }
        // A UTF-8 byte-order mark, as some editors write, is not part of the SQL.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(message: "the policy file is not valid UTF-8")
        }
        return text
    }
}
