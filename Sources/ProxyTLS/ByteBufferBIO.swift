import COpenSSL
import NIOCore

/// An OpenSSL `BIO` that reads ciphertext straight out of the NIO `ByteBuffer`s the channel received
/// and appends the ciphertext OpenSSL writes into one outbound `ByteBuffer`.
///
/// This avoids the staging copies of a pair of memory BIOs: OpenSSL's read copies directly from
/// the received buffer, and everything written during one flush lands in one buffer that goes out
/// in one channel write. Confined to the connection's event loop.
final class ByteBufferBIO {
    /// The `BIO*`. After `SSL_set_bio` the `SSL` owns its reference and frees it in `SSL_free`.
    let bio: OpaquePointer

    /// Ciphertext received from the network that OpenSSL has not read yet.
    private var inbound: ByteBuffer?
    /// Ciphertext OpenSSL produced that has not been handed to the channel yet.
    private var outbound: ByteBuffer
    /// Set when `outbound` was handed off: it is cleared on the next write, by which time the channel
    /// has usually written and released it, so the storage is reused without reallocating.
    private var outboundHandedOff = false

    init(allocator: ByteBufferAllocator) {
        self.bio = BIO_new(ByteBufferBIO.method)!
        self.outbound = allocator.buffer(capacity: 0)
        // Unretained: the TLSConnection owns this object and frees the SSL (and with it the BIO) first.
        BIO_set_data(bio, Unmanaged.passUnretained(self).toOpaque())
        BIO_set_init(bio, 1)
    }

    /// Detaches the Swift object so a callback arriving after teardown finds nothing.
    func detach() {
        BIO_set_data(bio, nil)
    }

    /// Queues ciphertext for OpenSSL to read.
    func receiveFromNetwork(_ buffer: ByteBuffer) {
        if inbound == nil || inbound!.readableBytes == 0 {
            inbound = buffer
        } else {
            var incoming = buffer
            inbound!.writeBuffer(&incoming)
        }
    }

    /// Ciphertext not yet consumed by OpenSSL (bytes past the end of the TLS stream, say).
    var pendingInboundBytes: Int { inbound?.readableBytes ?? 0 }

    /// Takes what OpenSSL wrote since the last call, or nil when it wrote nothing.
    func takeOutbound() -> ByteBuffer? {
        guard hasOutbound else { return nil }
        outboundHandedOff = true
        return outbound
    }

    var hasOutbound: Bool { !outboundHandedOff && outbound.readableBytes > 0 }

    // MARK: - Called by OpenSSL through the BIO_METHOD

    fileprivate func read(into destination: UnsafeMutablePointer<CChar>, length: Int) -> Int? {
        guard var buffer = inbound, buffer.readableBytes > 0 else { return nil }
        let count = min(length, buffer.readableBytes)
        buffer.withUnsafeReadableBytes { source in
            UnsafeMutableRawPointer(destination).copyMemory(from: source.baseAddress!, byteCount: count)
        }
        buffer.moveReaderIndex(forwardBy: count)
        inbound = buffer.readableBytes > 0 ? buffer : nil
        return count
    }

    fileprivate func write(from source: UnsafePointer<CChar>, length: Int) {
        if outboundHandedOff {
            outbound.clear()
            outboundHandedOff = false
        }
        outbound.writeBytes(UnsafeRawBufferPointer(start: source, count: length))
    }

    // MARK: - The BIO_METHOD, built once per process

    nonisolated(unsafe) static let method: OpaquePointer = {
        let index = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK
        let method = BIO_meth_new(index, "NIO ByteBuffer BIO")!
        BIO_meth_set_write_ex(method, byteBufferBIOWrite)
        BIO_meth_set_read_ex(method, byteBufferBIORead)
        BIO_meth_set_ctrl(method, byteBufferBIOControl)
        BIO_meth_set_create(method, byteBufferBIOCreate)
        BIO_meth_set_destroy(method, byteBufferBIODestroy)
        return method
    }()

    fileprivate static func from(_ bio: OpaquePointer?) -> ByteBufferBIO? {
        guard let bio, let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<ByteBufferBIO>.fromOpaque(data).takeUnretainedValue()
    }
}

private func byteBufferBIOWrite(
    _ bio: OpaquePointer?,
    _ data: UnsafePointer<CChar>?,
    _ length: Int,
    _ written: UnsafeMutablePointer<Int>?
) -> CInt {
    guard let bio, let data, let owner = ByteBufferBIO.from(bio) else { return 0 }
    copenssl_BIO_clear_retry_flags(bio)
    owner.write(from: data, length: length)
    written?.pointee = length
    return 1
}

private func byteBufferBIORead(
    _ bio: OpaquePointer?,
    _ data: UnsafeMutablePointer<CChar>?,
    _ length: Int,
    _ readBytes: UnsafeMutablePointer<Int>?
) -> CInt {
    guard let bio, let data, let owner = ByteBufferBIO.from(bio) else { return 0 }
    copenssl_BIO_clear_retry_flags(bio)
    guard let count = owner.read(into: data, length: length) else {
        // No data yet: ask OpenSSL to retry, which surfaces as SSL_ERROR_WANT_READ.
        copenssl_BIO_set_retry_read(bio)
        readBytes?.pointee = 0
        return 0
    }
    readBytes?.pointee = count
    return 1
}

private func byteBufferBIOControl(
    _ bio: OpaquePointer?,
    _ command: CInt,
    _ larg: Int,
    _ parg: UnsafeMutableRawPointer?
) -> Int {
    switch command {
    case BIO_CTRL_GET_CLOSE:
        return Int(BIO_get_shutdown(bio))
    case BIO_CTRL_SET_CLOSE:
        BIO_set_shutdown(bio, CInt(larg))
        return 1
    case BIO_CTRL_FLUSH:
        return 1
    default:
        return 0
    }
}

private func byteBufferBIOCreate(_ bio: OpaquePointer?) -> CInt {
    1
}

private func byteBufferBIODestroy(_ bio: OpaquePointer?) -> CInt {
    guard let bio else { return 0 }
    BIO_set_data(bio, nil)
    return 1
}
