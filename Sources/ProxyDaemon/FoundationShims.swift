import FoundationEssentials
import Glibc

// The daemon imports FoundationEssentials, not Foundation: with the Swift runtime linked
// statically (`make build`), full Foundation would bring in ICU and its data, about 40 MB of the
// binary, for nothing the daemon needs. This stand-in provides, with the same spelling, the
// only full-Foundation call it makes, so call sites read as before.

/// `FileHandle.standardError.write(_:)`: writes all of `data` to a file descriptor, retrying
/// short writes and EINTR; other errors drop the rest, as there is nowhere left to report them.
struct FileHandle {
    static let standardError = FileHandle(fileDescriptor: STDERR_FILENO)

    let fileDescriptor: Int32

    func write(_ data: Data) {
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
