import MariaDBWire
import NIOCore

extension ClientLoginStateMachine {
    /// Keys of the connect attributes the proxy adds for the backend (`backend_connect_attributes`);
    /// the same prefix is removed from what clients send, so the backend can trust them.
    static let proxyAttributePrefix = "_proxy_"

    /// The client's attributes block as the backend gets it: never a `_proxy_` key of the client's
    /// own; with `backend_connect_attributes`, the proxy's TLS facts and the client's address after
    /// the client's attributes. Only for a client that sends attributes (CLIENT_CONNECT_ATTRS):
    /// MariaDB then expects the block in its COM_CHANGE_USER packets too, which the proxy cannot add.
    func backendAttributesBlock(_ response: HandshakeResponse, negotiated: CapabilityFlags) -> [UInt8]? {
        guard negotiated.contains(.connectAttrs) else { return response.connectAttributesBlock }
        return backendAttributesBlock(response.connectAttributesBlock)
    }

    /// The allowed COM_CHANGE_USER's payload with its attribute block rewritten as the login's
    /// (MariaDB replaces the session's attributes with the change's), or nil to forward it as it
    /// came: no attribute block, or one MariaDB itself would refuse.
    mutating func backendChangeUserPayload(_ payload: ByteBuffer) -> ByteBuffer? {
        guard let request = forwardedChangeUser else { return nil }
        forwardedChangeUser = nil
        guard let block = request.attributesBlock(in: payload) else { return nil }
        return request.payload(payload, replacingAttributesWith: backendAttributesBlock(block))
    }

    private func backendAttributesBlock(_ block: [UInt8]?) -> [UInt8]? {
        var added: [ConnectAttribute] = []
        if configuration.backendConnectAttributes {
            if let tls = tlsFacts {
                added.append(ConnectAttribute(key: "_proxy_tls_version", value: tls.version))
                added.append(ConnectAttribute(key: "_proxy_tls_cipher", value: tls.cipher))
                if let subject = tls.peerSubject {
                    added.append(ConnectAttribute(key: "_proxy_client_subject", value: subject))
                }
            }
            added.append(ConnectAttribute(key: "_proxy_client_address", value: identity?.ip ?? identity?.host ?? ""))
        }
        return ConnectAttribute.rewrittenBlock(
            block,
            removingKeysWithPrefix: Self.proxyAttributePrefix,
            adding: added,
            maxLength: HandshakeResponse.maxConnectAttributesLength
        )
    }
}
