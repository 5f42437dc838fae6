//! The gossip TCP port's guard: memberlist's TCP stream layer, wrapped so that a connection
//! from outside `GDD_MEM_CIDRS_ALLOWED` is closed at accept, at most [`MAX_CONNECTIONS`] (and
//! [`MAX_CONNECTIONS_PER_IP`] from one address) are open at once, and no stream message
//! larger than the cluster's own state can need is read.
//!
//! memberlist 0.8.5 has none of these: its CIDR policy filters alive messages, not connections;
//! it starts a task for every connection; and its decoder allocates whatever length a message
//! header declares, then reads that many bytes (a peer declaring 2 GiB got 2 GiB). Wrapping its
//! stream layer (a public extension point of `memberlist-net`) needs no patch of memberlist:
//! the decoder learns a message's length by peeking at or reading its header through our
//! reader, and reads its body with one `read_exact` of that length, so the reader refuses a
//! declared length over the limit before the body's buffer is touched. The header layouts
//! checked are those of `memberlist-proto` 0.3.4, which `Cargo.lock` pins with memberlist.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use memberlist::net::stream_layer::tcp::{Tcp, TcpListener, TcpStream};
use memberlist::net::stream_layer::{Listener, PromisedStream, StreamLayer};
use memberlist::proto::{ProtoReader, ProtoWriter};
use memberlist::tokio::TokioRuntime;
use memberlist::transport::Connection;

/// Gossip TCP connections open at once; more are closed at accept. memberlist opens one for a
/// join, a periodic state sync (every `GDD_MEM_SYNC_INTERVAL`, with one peer) or a probe that
/// fell back to TCP, each for at most `GDD_MEM_TCP_TIMEOUT`.
pub(crate) const MAX_CONNECTIONS: usize = 128;
/// Of those, from one IP address.
pub(crate) const MAX_CONNECTIONS_PER_IP: usize = 16;
/// The smallest limit of a stream message, whatever the cluster's size.
const MIN_MESSAGE: usize = 1 << 20;
/// What a stream message may take per member: a member's state (name, address, metadata of at
/// most 512 bytes, incarnation, versions) takes well under 1 KiB in a state sync.
const MESSAGE_PER_MEMBER: usize = 4 << 10;

/// Why the guard closed a connection or refused a message, counted for
/// `doudou_gossip_refused_total`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Refusal {
    /// A connection from outside `GDD_MEM_CIDRS_ALLOWED`.
    Outsider,
    /// A connection over [`MAX_CONNECTIONS`] or [`MAX_CONNECTIONS_PER_IP`].
    TooManyConnections,
    /// A stream message over the limit.
    TooLarge,
    /// A UDP packet memberlist could not decode (counted by the log filter).
    Undecodable,
}

impl Refusal {
    pub(crate) const ALL: [Refusal; 4] =
        [Refusal::Outsider, Refusal::TooManyConnections, Refusal::TooLarge, Refusal::Undecodable];

    /// Its `reason` label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Outsider => "outsider",
            Self::TooManyConnections => "too_many_connections",
            Self::TooLarge => "message_too_large",
            Self::Undecodable => "undecodable_packet",
        }
    }
}

static REFUSED: [AtomicU64; 4] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];

/// Counts one refusal.
pub(crate) fn refused(why: Refusal) {
    REFUSED[why as usize].fetch_add(1, Ordering::Relaxed);
}

/// How many of `why` this process refused.
pub(crate) fn refusals(why: Refusal) -> u64 {
    REFUSED[why as usize].load(Ordering::Relaxed)
}

/// What the guard enforces, shared by the listener and every stream.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    /// `GDD_MEM_CIDRS_ALLOWED`; empty: any address.
    pub(crate) allowed: Vec<ipnet::IpNet>,
    /// The members known, on which the message limit grows.
    pub(crate) members: Arc<AtomicUsize>,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_ip: HashMap<IpAddr, usize>,
}

impl Rules {
    /// Rules for `allowed`, the limit following `members`.
    pub(crate) fn new(allowed: Vec<ipnet::IpNet>, members: Arc<AtomicUsize>) -> Self {
        Self { allowed, members, open: Mutex::default() }
    }

    /// The largest stream message now: what a state sync of every member takes, with room.
    pub(crate) fn max_message(&self) -> usize {
        let members = self.members.load(Ordering::Relaxed).max(1);
        MIN_MESSAGE.max(members.saturating_mul(MESSAGE_PER_MEMBER))
    }

    fn allows(&self, ip: IpAddr) -> bool {
        self.allowed.is_empty() || self.allowed.iter().any(|net| net.contains(&ip))
    }

    /// A place for a connection from `ip`, if one is free.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Place> {
        let mut open = self.open.lock().ok()?;
        let from_ip = open.by_ip.get(&ip).copied().unwrap_or(0);
        if open.total >= MAX_CONNECTIONS || from_ip >= MAX_CONNECTIONS_PER_IP {
            return None;
        }
        open.total += 1;
        *open.by_ip.entry(ip).or_insert(0) += 1;
        Some(Place { rules: Arc::clone(self), ip })
    }
}

/// An accepted connection's place, given back when its reader is dropped (memberlist splits
/// every stream before reading and drops both halves when it is done).
#[derive(Debug)]
struct Place {
    rules: Arc<Rules>,
    ip: IpAddr,
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Ok(mut open) = self.rules.open.lock() {
            open.total = open.total.saturating_sub(1);
            if let Some(n) = open.by_ip.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    open.by_ip.remove(&self.ip);
                }
            }
        }
    }
}

type Inner = Tcp<TokioRuntime>;
type InnerStream = TcpStream<TokioRuntime>;
type InnerReader = <InnerStream as Connection>::Reader;
type InnerWriter = <InnerStream as Connection>::Writer;

/// memberlist's TCP stream layer behind the guard.
pub(crate) struct Guarded {
    tcp: Inner,
    rules: Arc<Rules>,
}

impl StreamLayer for Guarded {
    type Runtime = TokioRuntime;
    type Listener = GuardedListener;
    type Stream = GuardedStream;
    type Options = Arc<Rules>;

    async fn new(rules: Arc<Rules>) -> io::Result<Self> {
        Ok(Self { tcp: Inner::new(), rules })
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<GuardedStream> {
        // A peer this node calls answers through the same decoder: its answer is limited too.
        let stream = StreamLayer::connect(&self.tcp, addr).await?;
        Ok(GuardedStream::new(stream, Arc::clone(&self.rules), None))
    }

    async fn bind(&self, addr: SocketAddr) -> io::Result<GuardedListener> {
        let listener = StreamLayer::bind(&self.tcp, addr).await?;
        Ok(GuardedListener { inner: listener, rules: Arc::clone(&self.rules) })
    }

    fn is_secure() -> bool {
        // Plain TCP: memberlist still encrypts with GDD_MEM_SECRET.
        false
    }
}

/// The gossip TCP listener behind the guard.
pub(crate) struct GuardedListener {
    inner: TcpListener<TokioRuntime>,
    rules: Arc<Rules>,
}

impl Listener for GuardedListener {
    type Stream = GuardedStream;

    async fn accept(&self) -> io::Result<(GuardedStream, SocketAddr)> {
        loop {
            let (stream, peer) = Listener::accept(&self.inner).await?;
            // Refused connections are dropped here, closing them, and the loop goes on: an
            // error would make memberlist log it and back off accepting for up to a second.
            if !self.rules.allows(peer.ip()) {
                refused(Refusal::Outsider);
                continue;
            }
            let Some(place) = self.rules.admit(peer.ip()) else {
                refused(Refusal::TooManyConnections);
                continue;
            };
            return Ok((GuardedStream::new(stream, Arc::clone(&self.rules), Some(place)), peer));
        }
    }

    fn local_addr(&self) -> SocketAddr {
        Listener::local_addr(&self.inner)
    }

    async fn shutdown(&self) -> io::Result<()> {
        Listener::shutdown(&self.inner).await
    }
}

/// A gossip TCP stream behind the guard: split at once, so that every read, whether memberlist
/// splits the stream first (it always does) or not, goes through the one guarded reader.
pub(crate) struct GuardedStream {
    reader: GuardedReader,
    writer: InnerWriter,
    local: SocketAddr,
    peer: SocketAddr,
}

impl GuardedStream {
    fn new(inner: InnerStream, rules: Arc<Rules>, place: Option<Place>) -> Self {
        let (local, peer) = (PromisedStream::local_addr(&inner), PromisedStream::peer_addr(&inner));
        let (reader, writer) = inner.split();
        Self { reader: GuardedReader { inner: reader, rules, _place: place }, writer, local, peer }
    }
}

impl Connection for GuardedStream {
    type Reader = GuardedReader;
    type Writer = InnerWriter;

    fn split(self) -> (GuardedReader, InnerWriter) {
        (self.reader, self.writer)
    }

    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        ProtoReader::read(&mut self.reader, buf).await
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        ProtoReader::read_exact(&mut self.reader, buf).await
    }

    async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        ProtoReader::peek(&mut self.reader, buf).await
    }

    async fn peek_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        ProtoReader::peek_exact(&mut self.reader, buf).await
    }

    async fn write_all(&mut self, payload: &[u8]) -> io::Result<()> {
        ProtoWriter::write_all(&mut self.writer, payload).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        ProtoWriter::flush(&mut self.writer).await
    }

    async fn close(&mut self) -> io::Result<()> {
        ProtoWriter::close(&mut self.writer).await
    }
}

impl PromisedStream for GuardedStream {
    type Instant = <InnerStream as PromisedStream>::Instant;

    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn peer_addr(&self) -> SocketAddr {
        self.peer
    }
}

/// The reading half of a guarded stream; holds the connection's place.
pub(crate) struct GuardedReader {
    inner: InnerReader,
    rules: Arc<Rules>,
    _place: Option<Place>,
}

impl ProtoReader for GuardedReader {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        ProtoReader::read(&mut self.inner, buf).await
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        check_read(&self.rules, buf.len())?;
        ProtoReader::read_exact(&mut self.inner, buf).await?;
        check_read_header(&self.rules, buf)
    }

    async fn peek(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = ProtoReader::peek(&mut self.inner, buf).await?;
        check_header(&self.rules, &buf[..n]).map(|()| n)
    }

    async fn peek_exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        ProtoReader::peek_exact(&mut self.inner, buf).await?;
        check_header(&self.rules, buf)
    }
}

fn too_large(declared: usize, limit: usize) -> io::Error {
    refused(Refusal::TooLarge);
    tracing::debug!(
        declared,
        limit,
        "refusing a gossip stream message larger than the cluster's state can be"
    );
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("a gossip stream message of {declared} bytes is over the limit of {limit}"),
    )
}

/// What a message's body read adds to its declared length: its header, or an encrypted
/// message's nonce and tag.
const FRAMING: usize = 64;

/// Refuses to read `len` bytes at once beyond the limit: a message's body is read with one
/// `read_exact` of its declared length (and its framing), before any of its buffer is written.
fn check_read(rules: &Rules, len: usize) -> io::Result<()> {
    let limit = rules.max_message();
    if len > limit + FRAMING {
        return Err(too_large(len, limit));
    }
    Ok(())
}

/// The one header the decoder reads rather than peeks: an encrypted message's (6 bytes).
/// Nothing else read is a header: a body may start with any bytes (an encrypted one with its
/// random nonce).
fn check_read_header(rules: &Rules, read: &[u8]) -> io::Result<()> {
    match read {
        [ENCRYPTED, _, _, _, _, _] => check_header(rules, read),
        _ => Ok(()),
    }
}

/// memberlist-proto 0.3.4's stream message tags whose header is the tag, one byte, and a
/// big-endian `u32` length: compound, checksummed, encrypted.
const COMPOUND: u8 = 1;
const LABELED: u8 = 12;
const CHECKSUMMED: u8 = 13;
const COMPRESSED: u8 = 14;
const ENCRYPTED: u8 = 15;

/// Refuses a message header (peeked or read) that declares a length beyond the limit.
fn check_header(rules: &Rules, header: &[u8]) -> io::Result<()> {
    let Some(&tag) = header.first() else { return Ok(()) };
    let declared = match tag {
        COMPOUND | CHECKSUMMED | ENCRYPTED if header.len() == 6 => {
            u32::from_be_bytes([header[2], header[3], header[4], header[5]]) as usize
        }
        // A label's own length is one byte; a compressed message is not compiled in.
        LABELED | COMPRESSED | COMPOUND | CHECKSUMMED | ENCRYPTED => return Ok(()),
        // A plain message: the tag, then its length as a varint.
        _ => match varint(&header[1..]) {
            Some(len) => len,
            None => return Ok(()),
        },
    };
    let limit = rules.max_message();
    if declared > limit {
        return Err(too_large(declared, limit));
    }
    Ok(())
}

/// A LEB128 `u32` at the start of `bytes`, if it is all there.
fn varint(bytes: &[u8]) -> Option<usize> {
    let mut value: u64 = 0;
    for (i, byte) in bytes.iter().take(5).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return usize::try_from(value).ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(members: usize) -> Rules {
        Rules::new(Vec::new(), Arc::new(AtomicUsize::new(members)))
    }

    #[test]
    fn the_limit_grows_with_the_cluster() {
        assert_eq!(rules(3).max_message(), 1 << 20);
        assert_eq!(rules(1000).max_message(), 1000 * 4096);
    }

    #[test]
    fn headers_declaring_more_than_the_limit_are_refused() {
        let rules = rules(3);
        // Compound, as the fault run sent it: 0x01, a count, 0x7FFFFFFF.
        assert!(check_header(&rules, &[1, 0, 0x7f, 0xff, 0xff, 0xff]).is_err());
        assert!(check_header(&rules, &[15, 1, 0x7f, 0xff, 0xff, 0xff]).is_err());
        assert!(check_header(&rules, &[13, 1, 0, 0, 0x10, 0]).is_ok());
        // A plain message whose varint length is 2^28.
        assert!(check_header(&rules, &[4, 0x80, 0x80, 0x80, 0x80, 0x01]).is_err());
        assert!(check_header(&rules, &[4, 0x80, 0x01]).is_ok());
        // An incomplete varint is left for the decoder to peek again.
        assert!(check_header(&rules, &[4, 0x80]).is_ok());
        assert!(check_read(&rules, 2 << 20).is_err());
        assert!(check_read(&rules, (1 << 20) + 28).is_ok(), "a message at the limit, with a nonce and tag");
    }

    #[test]
    fn a_body_read_is_not_taken_for_a_header() {
        let rules = rules(3);
        // An encrypted body starts with its random nonce: 02 ff ff 7f would read as a plain
        // message of 2 MiB.
        let mut body = vec![0x02, 0xff, 0xff, 0x7f];
        body.resize(200, 0x5a);
        assert!(check_read_header(&rules, &body).is_ok());
        // The encrypted header itself, read in one piece, is checked.
        assert!(check_read_header(&rules, &[15, 1, 0x7f, 0xff, 0xff, 0xff]).is_err());
        assert!(check_read_header(&rules, &[15, 1, 0, 0, 0x10, 0]).is_ok());
    }

    #[test]
    fn places_are_bounded_per_ip_and_given_back() {
        let rules = Arc::new(rules(3));
        let ip: IpAddr = [10, 0, 0, 1].into();
        let held: Vec<_> = (0..MAX_CONNECTIONS_PER_IP).map(|_| rules.admit(ip).expect("a place")).collect();
        assert!(rules.admit(ip).is_none(), "one address holds at most its share");
        assert!(rules.admit([10, 0, 0, 2].into()).is_some(), "others still get in");
        drop(held);
        assert!(rules.admit(ip).is_some(), "places come back when connections end");
    }
}
