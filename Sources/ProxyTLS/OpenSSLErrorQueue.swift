import COpenSSL

/// Reads OpenSSL's thread-local error queue.
///
/// The queue is per thread and every event-loop thread serves many connections, so it is cleared
/// before each `SSL_*` call and drained after each failure: a stale entry would otherwise be
/// blamed on the next connection served by the same thread.
enum OpenSSLErrorQueue {
    /// Empties the queue and returns its entries as "reason (lib)" strings, oldest first.
    static func drain() -> [String] {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            messages.append(describe(code))
        }
        return messages
    }

    /// The whole queue as one line, or `fallback` when it is empty.
    static func drainedDescription(fallback: String) -> String {
        let messages = drain()
        return messages.isEmpty ? fallback : messages.joined(separator: "; ")
    }

    /// Makes sure the queue is empty before an `SSL_*` call. It almost always is already (every
    /// failure drains it), and `ERR_peek_error` costs a fraction of `ERR_clear_error`, which
    /// resets every slot of the queue: about 1,700 instructions per relayed query otherwise
    /// (docs/benchmarks.md, "TLS record path").
    static func clear() {
        if ERR_peek_error() != 0 { ERR_clear_error() }
    }

    static func describe(_ code: UInt) -> String {
        if let reason = ERR_reason_error_string(code) {
            return String(cString: reason)
        }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
