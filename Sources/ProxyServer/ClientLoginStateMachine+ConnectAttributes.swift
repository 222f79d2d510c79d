import MariaDBWire

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
            response.connectAttributesBlock, removingKeysWithPrefix: Self.proxyAttributePrefix, adding: added,
            maxLength: HandshakeResponse.maxConnectAttributesLength)
    }
}
