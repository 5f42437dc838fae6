//! Request ids: the `X-Request-ID` a client sent when it is sane, else one generated here
//! (a per-process random prefix and a counter, written in batches per thread).

use std::sync::atomic::{AtomicU64, Ordering};

use http::header::{HeaderName, HeaderValue};

/// The request-id header.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A generated request id by value: what the handler's `Request` keeps, so handing it over
/// touches no reference count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GeneratedId([u8; ID_LEN]);

impl GeneratedId {
    pub(crate) fn of(id: &HeaderValue) -> Option<Self> {
        id.as_bytes().try_into().ok().map(Self)
    }

    /// The id as a header value.
    pub(crate) fn header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.0).unwrap_or(HeaderValue::from_static("unknown"))
    }
}

/// What the server's one scan of a request's headers found, handed to the handler so that it
/// looks nothing up again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scanned {
    /// The id generated for a request that came without one.
    pub(crate) generated: Option<GeneratedId>,
    /// Whether it may carry a `traceparent` (`true` where no scan was made).
    pub(crate) traceparent: bool,
}

impl Scanned {
    /// Nothing known: look the headers up when asked.
    pub(crate) const UNKNOWN: Self = Self { generated: None, traceparent: true };
}

/// The id of the request being handled, for the calls its handler makes.
#[derive(Debug, Clone)]
pub(crate) enum CurrentId {
    Generated(GeneratedId),
    Given(HeaderValue),
}

/// What the handler of a request passes on to the calls it makes: the request id, the time
/// the request must be answered by (`GDD_WRITE_TIMEOUT` after it arrived) and, when this
/// process does not trace, the caller's trace context as it came.
#[derive(Debug, Clone)]
pub(crate) struct Current {
    id: Option<CurrentId>,
    deadline: std::time::Instant,
    /// `traceparent` and `tracestate`; boxed, since most requests have none.
    trace: Option<Box<(HeaderValue, Option<HeaderValue>)>>,
}

impl Current {
    pub(crate) fn new(
        id: Option<CurrentId>,
        deadline: std::time::Instant,
        trace: Option<Box<(HeaderValue, Option<HeaderValue>)>>,
    ) -> Self {
        Self { id, deadline, trace }
    }
}

tokio::task_local! {
    static CURRENT: Current;
}

/// Runs `handler` with what client calls pass on.
pub(crate) fn scope<F: std::future::Future>(
    current: Current,
    handler: F,
) -> tokio::task::futures::TaskLocalFuture<Current, F> {
    CURRENT.scope(current, handler)
}

/// The id of the request whose handler is running on this task, if any.
pub(crate) fn current() -> Option<HeaderValue> {
    CURRENT
        .try_with(|current| match &current.id {
            Some(CurrentId::Generated(id)) => Some(id.header_value()),
            Some(CurrentId::Given(id)) => Some(id.clone()),
            None => None,
        })
        .ok()
        .flatten()
}

/// When the request whose handler is running on this task must be answered, if any.
pub(crate) fn deadline() -> Option<std::time::Instant> {
    CURRENT.try_with(|current| current.deadline).ok()
}

/// The caller's `traceparent` (and `tracestate`) of the request being handled, when this
/// process does not trace and passes them on unchanged.
pub(crate) fn passed_trace() -> Option<(HeaderValue, Option<HeaderValue>)> {
    CURRENT.try_with(|current| current.trace.as_deref().cloned()).ok().flatten()
}

pub(crate) fn valid_request_id(v: &HeaderValue) -> bool {
    !v.is_empty() && v.len() <= 128 && v.as_bytes().iter().all(|b| b.is_ascii_graphic())
}

/// Request ids: a per-process random prefix and a counter, unique and cheap. Ids are written
/// 64 at a time into one buffer per thread, and each is a slice of it: a header value without
/// an allocation of its own.
pub(crate) struct RequestIds {
    /// The prefix, already in hex, and the separator.
    prefix: [u8; 17],
    counter: AtomicU64,
}

const IDS_PER_BATCH: u64 = 64;
const ID_LEN: usize = 33;

/// Ids written and not yet handed out, by the `RequestIds` (prefix) that wrote them.
#[derive(Default)]
struct IdBatch {
    prefix: [u8; 17],
    ids: bytes::Bytes,
}

thread_local! {
    static ID_BATCH: std::cell::RefCell<IdBatch> = std::cell::RefCell::new(IdBatch::default());
}

impl RequestIds {
    pub(crate) fn new() -> Self {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos(),
        );
        h.write_u32(std::process::id());
        let mut prefix = [b'-'; 17];
        write_hex(h.finish(), &mut prefix[..16]);
        Self { prefix, counter: AtomicU64::new(0) }
    }

    /// `{prefix:016x}-{n:016x}`.
    pub(crate) fn next(&self) -> HeaderValue {
        let id = ID_BATCH.with_borrow_mut(|batch| {
            if batch.prefix != self.prefix || batch.ids.is_empty() {
                *batch = self.batch();
            }
            batch.ids.split_to(ID_LEN)
        });
        HeaderValue::from_maybe_shared(id).unwrap_or(HeaderValue::from_static("unknown"))
    }

    fn batch(&self) -> IdBatch {
        let first = self.counter.fetch_add(IDS_PER_BATCH, Ordering::Relaxed);
        let mut ids = bytes::BytesMut::with_capacity(ID_LEN * IDS_PER_BATCH as usize);
        let mut id = [0u8; ID_LEN];
        id[..17].copy_from_slice(&self.prefix);
        for n in first..first + IDS_PER_BATCH {
            write_hex(n, &mut id[17..]);
            ids.extend_from_slice(&id);
        }
        IdBatch { prefix: self.prefix, ids: ids.freeze() }
    }
}

fn write_hex(n: u64, out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in n.to_be_bytes().iter().enumerate() {
        out[2 * i] = HEX[usize::from(byte >> 4)];
        out[2 * i + 1] = HEX[usize::from(byte & 0xf)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_unique_and_shaped_prefix_dash_counter() {
        let ids = RequestIds::new();
        let other = RequestIds::new();
        let mut seen = std::collections::HashSet::new();
        for i in 0..200u64 {
            // Interleaved with another server's ids on the same thread.
            let id = ids.next();
            let theirs = other.next();
            let id = id.to_str().expect("ascii");
            assert_eq!(id.len(), ID_LEN, "{id}");
            let (prefix, counter) = id.split_once('-').expect("prefix-counter");
            assert_eq!(prefix.len(), 16);
            assert!(prefix.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
            assert!(u64::from_str_radix(counter, 16).expect("hex counter") >= i);
            assert_ne!(theirs.to_str().ok(), Some(id));
            assert!(seen.insert(id.to_owned()), "{id} twice");
        }
    }
}
