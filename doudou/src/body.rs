//! Bodies: the response body type, file downloads (streamed) and file uploads (multipart).

use std::path::Path;

pub use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http_body_util::{BodyExt, StreamBody};

use crate::error::Error;

use hyper::body::Incoming;

/// Any error a body stream can raise.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every request and response doudou handles: bytes in one piece (JSON, errors)
/// without a heap-allocated stream, what the connection receives, or any other body
/// (downloads, compressed or user-layer bodies) boxed. User layers see requests with it.
pub struct Body(Kind);

enum Kind {
    Full(Option<Bytes>),
    Incoming(Incoming),
    Boxed(http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>),
}

/// A body received by hyper, unboxed.
impl From<Incoming> for Body {
    fn from(body: Incoming) -> Self {
        Self(Kind::Incoming(body))
    }
}

impl Body {
    /// A body of `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self(Kind::Full((!bytes.is_empty()).then_some(bytes)))
    }

    /// No body.
    pub fn empty() -> Self {
        Self(Kind::Full(None))
    }

    /// Any other body.
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(Kind::Boxed(body.map_err(Into::into).boxed_unsync()))
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Kind::Full(b) => f.debug_tuple("Body::Full").field(&b.as_ref().map_or(0, Bytes::len)).finish(),
            Kind::Incoming(_) => f.write_str("Body::Incoming"),
            Kind::Boxed(_) => f.write_str("Body::Boxed"),
        }
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        match &mut self.get_mut().0 {
            Kind::Full(bytes) => std::task::Poll::Ready(bytes.take().map(|b| Ok(http_body::Frame::data(b)))),
            Kind::Incoming(body) => std::pin::Pin::new(body).poll_frame(cx).map_err(Into::into),
            Kind::Boxed(body) => std::pin::Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Incoming(body) => body.is_end_stream(),
            Kind::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> http_body::SizeHint {
        match &self.0 {
            Kind::Full(bytes) => {
                http_body::SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Kind::Incoming(body) => body.size_hint(),
            Kind::Boxed(body) => body.size_hint(),
        }
    }
}

/// A file sent to the client as a stream, with a `Content-Disposition: attachment` header.
///
/// Return `Result<FileDownload, doudou::Error>` from a service method to offer a download; the
/// generated client gives the same type back, with the body still streaming from the server.
pub struct FileDownload {
    filename: String,
    content_type: String,
    len: Option<u64>,
    body: Body,
}

impl std::fmt::Debug for FileDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDownload")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl FileDownload {
    /// Streams the file at `path`, named after its last path component.
    pub async fn from_path(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let file = tokio::fs::File::open(path).await?;
        let len = file.metadata().await?.len();
        let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stream = tokio_util::io::ReaderStream::new(file);
        let mut download = Self::from_stream(filename, stream);
        download.len = Some(len);
        Ok(download)
    }

    /// A download of bytes already in memory.
    pub fn from_bytes(filename: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        Self {
            filename: filename.into(),
            content_type: "application/octet-stream".to_owned(),
            len: Some(bytes.len() as u64),
            body: Body::full(bytes),
        }
    }

    /// A download whose content is produced by a stream of chunks.
    pub fn from_stream<S>(filename: impl Into<String>, stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    {
        let frames = stream.map_ok(http_body::Frame::data).map_err(BoxError::from);
        Self {
            filename: filename.into(),
            content_type: "application/octet-stream".to_owned(),
            len: None,
            body: Body::new(StreamBody::new(frames)),
        }
    }

    pub(crate) fn from_body(filename: String, content_type: String, len: Option<u64>, body: Body) -> Self {
        Self { filename, content_type, len, body }
    }

    /// Sets the `Content-Type` (default `application/octet-stream`).
    #[must_use]
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = content_type.into();
        self
    }

    /// The file name offered to the client.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The media type of the content.
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The length in bytes, where known in advance.
    pub fn len(&self) -> Option<u64> {
        self.len
    }

    /// True where the length is known to be zero.
    pub fn is_empty(&self) -> bool {
        self.len == Some(0)
    }

    /// Reads the whole content into memory.
    pub async fn bytes(self) -> Result<Bytes, Error> {
        BodyExt::collect(self.body)
            .await
            .map(|c| c.to_bytes())
            .map_err(|e| Error::internal(format!("reading download {:?}: {e}", self.filename)))
    }

    /// The content as a stream of chunks.
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, BoxError>> + Send {
        http_body_util::BodyDataStream::new(self.body)
    }

    pub(crate) fn into_parts(self) -> (String, String, Option<u64>, Body) {
        (self.filename, self.content_type, self.len, self.body)
    }
}

/// A file received in a `multipart/form-data` request, held in memory (bounded by
/// `GDD_MAX_BODY_SIZE`).
#[derive(Debug, Clone)]
pub struct UploadFile {
    filename: String,
    content_type: String,
    bytes: Bytes,
}

impl UploadFile {
    /// A file to send with the generated client.
    pub fn new(
        filename: impl Into<String>,
        content_type: impl Into<String>,
        bytes: impl Into<Bytes>,
    ) -> Self {
        Self { filename: filename.into(), content_type: content_type.into(), bytes: bytes.into() }
    }

    /// The file name the client gave.
    pub fn filename(&self) -> &str {
        &self.filename
    }

    /// The media type the client gave (`application/octet-stream` if none).
    pub fn content_type(&self) -> &str {
        &self.content_type
    }

    /// The content.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The content, by value.
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }
}

/// `attachment; filename="..."; filename*=UTF-8''...`, safe for any file name.
pub(crate) fn content_disposition(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(filename, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// The file name of a `Content-Disposition` header, preferring the UTF-8 form.
pub(crate) fn disposition_filename(header: &str) -> Option<String> {
    let mut plain = None;
    for part in header.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let v = v.strip_prefix("UTF-8''").or_else(|| v.strip_prefix("utf-8''")).unwrap_or(v);
            return Some(percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned());
        }
        if let Some(v) = part.strip_prefix("filename=") {
            plain = Some(v.trim_matches('"').to_owned());
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_round_trips_any_name() {
        for name in ["report.pdf", "hello world.txt", "naïve \"quoted\".csv", "日本.txt"] {
            let header = content_disposition(name);
            assert!(header.is_ascii(), "{header}");
            assert_eq!(disposition_filename(&header).as_deref(), Some(name));
        }
    }
}

thread_local! {
    /// Whether the connection whose task is running on this thread is draining (the server is
    /// shutting down): set by the connection around each poll, read by bodies that would run
    /// forever otherwise (an event stream ends then, cleanly, rather than being cut at the
    /// grace timeout).
    static DRAINING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the connection polling this body is draining.
pub(crate) fn connection_draining() -> bool {
    DRAINING.with(std::cell::Cell::get)
}

/// Marks the connection about to be polled on this thread as draining or not.
pub(crate) fn set_connection_draining(draining: bool) {
    DRAINING.with(|d| d.set(draining));
}
