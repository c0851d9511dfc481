//! Free loopback ports: bind port 0, read the port the kernel chose, close the socket.

use std::net::{TcpListener, UdpSocket};

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// # Panics
/// If the kernel refuses to bind a loopback socket.
pub fn free_tcp_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("binding a free TCP port on 127.0.0.1: {e}"));
    listener
        .local_addr()
        .unwrap_or_else(|e| panic!("reading the free TCP port: {e}"))
        .port()
}

/// A UDP port on 127.0.0.1 that was free a moment ago.
///
/// # Panics
/// If the kernel refuses to bind a loopback socket.
pub fn free_udp_port() -> u16 {
    let socket = UdpSocket::bind("127.0.0.1:0")
        .unwrap_or_else(|e| panic!("binding a free UDP port on 127.0.0.1: {e}"));
    socket
        .local_addr()
        .unwrap_or_else(|e| panic!("reading the free UDP port: {e}"))
        .port()
}

/// The URL of a loopback port nothing listens on: an output that is down for good.
pub fn dead_url() -> String {
    format!("http://127.0.0.1:{}", free_tcp_port())
}
