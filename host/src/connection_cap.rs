//! A cap on a bound socket's connections (the command socket's, the event
//! socket's), so that a flood of connections cannot take the file
//! descriptors the order path needs (the nonce file, the journal, the
//! exchange's and the signer's connections). ZeroMQ has no such option:
//! the socket's monitor reports
//! every accepted connection with its descriptor, and one beyond the cap is
//! shut down at once (ZeroMQ then closes it and frees the descriptor).
//! Connections that never finish ZeroMQ's handshake are dropped by ZeroMQ
//! after [`HANDSHAKE_MS`], so a flood of bare TCP connections frees its
//! places soon.

use std::collections::HashSet;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::warn;

/// How long a connection may take to finish ZeroMQ's handshake, ms.
pub const HANDSHAKE_MS: i32 = 2_000;

/// Starts `socket`'s monitor (accepted and ended connections) and returns
/// the socket its events arrive on, in `socket`'s `context`.
pub fn monitor(context: &zmq::Context, socket: &zmq::Socket) -> Result<zmq::Socket, zmq::Error> {
    // A name of its own each time: a socket made anew in the same place (the
    // event socket, when its subscribers are dropped) must not meet the
    // endpoint of its predecessor's monitor, which closes in the background.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let endpoint = format!(
        "inproc://connections-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    socket.monitor(
        &endpoint,
        i32::from(
            zmq::SocketEvent::ACCEPTED.to_raw()
                | zmq::SocketEvent::DISCONNECTED.to_raw()
                | zmq::SocketEvent::CLOSED.to_raw(),
        ),
    )?;
    let events = context.socket(zmq::PAIR)?;
    events.connect(&endpoint)?;
    Ok(events)
}

/// Applies every event waiting on `monitor` to `cap`, telling `on_change`
/// what each did.
pub fn apply_events(
    monitor: &zmq::Socket,
    cap: &mut ConnectionCap,
    mut on_change: impl FnMut(Change, &ConnectionCap),
) {
    while let Ok(frames) = monitor.recv_multipart(zmq::DONTWAIT) {
        if let Some(frame) = frames.first() {
            let change = cap.on_event(frame);
            on_change(change, cap);
        }
    }
}

/// The connections of a socket, by descriptor.
#[derive(Debug)]
pub struct ConnectionCap {
    max: usize,
    open: HashSet<RawFd>,
    local: Option<LocalAddress>,
}

/// What a monitor event did to the connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A connection was taken.
    Accepted,
    /// A connection over the cap was shut down.
    Refused,
    /// A connection ended.
    Closed,
    /// Nothing that counts.
    None,
}

impl ConnectionCap {
    /// At most `max` connections to the socket bound at `endpoint` (its
    /// resolved address, `get_last_endpoint`).
    pub fn new(max: usize, endpoint: &str) -> ConnectionCap {
        ConnectionCap {
            max,
            open: HashSet::new(),
            local: LocalAddress::of_endpoint(endpoint),
        }
    }

    /// The cap.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many connections are open.
    pub fn open(&self) -> usize {
        self.open.len()
    }

    /// Applies one monitor event (its first frame: event id and value).
    pub fn on_event(&mut self, frame: &[u8]) -> Change {
        let (Some(event), Some(value)) = (
            frame.get(0..2).and_then(|b| <[u8; 2]>::try_from(b).ok()),
            frame.get(2..6).and_then(|b| <[u8; 4]>::try_from(b).ok()),
        ) else {
            return Change::None;
        };
        let event = zmq::SocketEvent::from_raw(u16::from_ne_bytes(event));
        let fd = i32::from_ne_bytes(value);
        match event {
            zmq::SocketEvent::ACCEPTED => {
                if self.open.len() < self.max {
                    self.open.insert(fd);
                    return Change::Accepted;
                }
                // The descriptor is checked to still be a connection to
                // this socket: the event is read after the fact, and a
                // descriptor closed meanwhile could be reused elsewhere.
                if self
                    .local
                    .as_ref()
                    .is_some_and(|local| local.is_local_of(fd))
                {
                    // SAFETY: shutdown on a descriptor this socket owns
                    // neither closes nor invalidates it; ZeroMQ sees the end
                    // of the stream and closes it itself.
                    unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
                }
                Change::Refused
            }
            zmq::SocketEvent::DISCONNECTED | zmq::SocketEvent::CLOSED => {
                if self.open.remove(&fd) {
                    Change::Closed
                } else {
                    Change::None
                }
            }
            _ => Change::None,
        }
    }
}

/// The local address of the socket's connections.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LocalAddress {
    /// TCP: the bound address.
    Tcp(std::net::SocketAddr),
    /// A Unix socket: its path.
    Ipc(String),
}

impl LocalAddress {
    fn of_endpoint(endpoint: &str) -> Option<LocalAddress> {
        if let Some(address) = endpoint.strip_prefix("tcp://") {
            return address.parse().ok().map(LocalAddress::Tcp);
        }
        endpoint
            .strip_prefix("ipc://")
            .map(|path| LocalAddress::Ipc(path.to_owned()))
    }

    /// Whether `fd` is a socket whose local address is this one.
    fn is_local_of(&self, fd: RawFd) -> bool {
        // SAFETY: getsockname writes at most `length` bytes into the
        // zeroed storage; a descriptor that is not a socket is an error.
        let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
        let mut length = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let status = unsafe {
            libc::getsockname(
                fd,
                (&raw mut storage).cast::<libc::sockaddr>(),
                &raw mut length,
            )
        };
        if status != 0 {
            return false;
        }
        match (self, i32::from(storage.ss_family)) {
            (LocalAddress::Tcp(bound), libc::AF_INET) => {
                // SAFETY: the family says the storage holds a sockaddr_in.
                let address = unsafe { *(&raw const storage).cast::<libc::sockaddr_in>() };
                let ip = std::net::Ipv4Addr::from(u32::from_be(address.sin_addr.s_addr));
                let port = u16::from_be(address.sin_port);
                bound.port() == port && (bound.ip().is_unspecified() || bound.ip() == ip)
            }
            (LocalAddress::Tcp(bound), libc::AF_INET6) => {
                // SAFETY: the family says the storage holds a sockaddr_in6.
                let address = unsafe { *(&raw const storage).cast::<libc::sockaddr_in6>() };
                bound.port() == u16::from_be(address.sin6_port)
            }
            (LocalAddress::Ipc(path), libc::AF_UNIX) => {
                // SAFETY: the family says the storage holds a sockaddr_un.
                let address = unsafe { *(&raw const storage).cast::<libc::sockaddr_un>() };
                let bytes: Vec<u8> = address
                    .sun_path
                    .iter()
                    .take_while(|&&c| c != 0)
                    .map(|&c| c as u8)
                    .collect();
                bytes == path.as_bytes()
            }
            _ => false,
        }
    }
}

/// Logs a connection to `socket` refused over the cap `setting` sets: the
/// first only (`refused_before`: how many were refused before it).
pub fn warn_refused(socket: &str, setting: &str, refused_before: u64, max: usize) {
    if refused_before == 0 {
        warn!(
            max,
            "{socket} socket: a connection over the cap was refused (zmq.{setting})"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use zmq::SocketEvent::{ACCEPTED, CLOSED, DISCONNECTED};

    fn event(id: zmq::SocketEvent, fd: i32) -> Vec<u8> {
        let mut frame = id.to_raw().to_ne_bytes().to_vec();
        frame.extend_from_slice(&fd.to_ne_bytes());
        frame
    }

    #[test]
    fn connections_beyond_the_cap_are_refused_and_ends_free_places() {
        let mut cap = ConnectionCap::new(2, "tcp://127.0.0.1:1");
        assert_eq!(cap.on_event(&event(ACCEPTED, 10)), Change::Accepted);
        assert_eq!(cap.on_event(&event(ACCEPTED, 11)), Change::Accepted);
        // Descriptor 12 is not a connection to 127.0.0.1:1: refused, and
        // left alone.
        assert_eq!(cap.on_event(&event(ACCEPTED, 12)), Change::Refused);
        assert_eq!(cap.open(), 2);
        assert_eq!(cap.on_event(&event(DISCONNECTED, 10)), Change::Closed);
        assert_eq!(cap.on_event(&event(CLOSED, 12)), Change::None);
        assert_eq!(cap.on_event(&event(ACCEPTED, 13)), Change::Accepted);
        assert_eq!(cap.on_event(&[1, 2]), Change::None, "a short frame");
    }

    #[test]
    fn only_a_connection_to_the_socket_itself_is_shut_down() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let _client = std::net::TcpStream::connect(address).unwrap();
        let (accepted, _) = listener.accept().unwrap();
        let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        use std::os::fd::AsRawFd;
        let local = LocalAddress::of_endpoint(&format!("tcp://{address}")).unwrap();
        assert!(local.is_local_of(accepted.as_raw_fd()));
        assert!(!local.is_local_of(other.as_raw_fd()));
        assert!(!local.is_local_of(-1));
    }
}
