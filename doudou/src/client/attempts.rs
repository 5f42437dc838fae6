//! One call's attempts: the instance chosen for each, its timeout, the retry decision, and
//! the metrics of the whole call.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode};
use tower::retry::budget::Budget;

use super::exchange::{Broken, Exchange, Exchanged};
use super::metrics::Outcome;
use super::transport::is_connect;
use super::{balance, Call, Received, Shared};
use crate::body::{Body, BoxError};
use crate::deadline::{now, Deadline};
use crate::error::Error;
use crate::trace;

/// How one attempt ended.
enum Attempt {
    /// An answer, its body read whole.
    Answered(http::response::Parts, Bytes),
    /// A 2xx answer whose body the caller streams.
    Streaming(http::Response<Body>),
    TimedOut,
    /// No answer.
    Failed(BoxError),
    /// An answer whose body is unusable: why, after "the response".
    BadBody(String),
}

/// How a call ended.
enum Ended {
    /// A 2xx answer, decoded (`None`) or to stream.
    Reply(Option<http::Response<Body>>),
    /// A non-2xx answer: its body says why.
    Refused(StatusCode, Bytes),
    Failed(Error),
}

/// What a call does with a 2xx body, within the attempt: hands it whole to a decoder (which
/// keeps the value and says why it is not one), or leaves it to the caller to stream.
pub(super) type Decode<'d> =
    Option<&'d mut (dyn FnMut(&http::response::Parts, &[u8]) -> Result<(), String> + Send)>;

/// A call ready to go: what each attempt sends. Only this lives across the attempts' awaits
/// (the call under construction, its parameters and the request builder do not), which keeps
/// the future a generated method returns small: it is moved each time it is polled from a new
/// place, and every byte of it is copied then.
pub(super) struct Outgoing<'a> {
    shared: &'a Shared,
    method: Method,
    template: &'static str,
    /// The path and query after an instance's base URL.
    path: String,
    headers: HeaderMap,
    body: Option<(HeaderValue, Bytes)>,
    /// Whether a 3xx answer is the value rather than an error.
    accepts_redirects: bool,
}

impl<'a> Call<'a> {
    /// Sends the call and reads the answer with `read`: a whole body within the attempt (so
    /// that one `read` refuses fails the attempt), or the response still to read when
    /// `streamed`; a non-2xx answer (non-2xx-or-3xx when `redirects` are the value) becomes the
    /// server's error. See the module documentation for timeouts, retries and the choice of
    /// instance.
    pub(crate) fn answer<T: Send + 'a>(
        mut self,
        read: fn(Received<'_>) -> Result<T, String>,
        streamed: bool,
        redirects: bool,
    ) -> impl std::future::Future<Output = Result<T, Error>> + Send + 'a {
        self.accepts_redirects = redirects;
        let (failed, outgoing, span) = self.prepare();
        // `outgoing` is only borrowed here: moving it into a local would store it twice.
        instrumented(span, async move {
            if let Some(e) = failed {
                return Err(e);
            }
            if streamed {
                let resp =
                    outgoing.send(None).await?.ok_or_else(|| Error::internal("the answer was read whole"))?;
                return read(Received::Streamed(resp))
                    .map_err(|why| Error::new(StatusCode::BAD_GATEWAY, format!("the response {why}")));
            }
            let mut decoded = None;
            let mut keep = |parts: &http::response::Parts, bytes: &[u8]| {
                read(Received::Whole(parts, bytes)).map(|value| decoded = Some(value))
            };
            outgoing.send(Some(&mut keep)).await?;
            decoded.ok_or_else(|| Error::internal("the answer was not decoded"))
        })
    }

    fn prepare(mut self) -> (Option<Error>, Outgoing<'a>, Option<trace::Traced>) {
        let failed = self.failed.take();
        self.encode_body();
        let mut headers = std::mem::take(&mut self.headers);
        for (name, value) in &self.client.shared.headers {
            if !headers.contains_key(name) {
                headers.insert(name, value.clone());
            }
        }
        if !headers.contains_key(crate::request_id::X_REQUEST_ID) {
            if let Some(id) = crate::request_id::current() {
                headers.insert(crate::request_id::X_REQUEST_ID, id);
            }
        }
        let span = if trace::enabled() {
            let span = trace::client_span(&self.method, self.template);
            trace::inject(&span.span, &mut headers);
            Some(span)
        } else {
            if let Some((parent, state)) = crate::request_id::passed_trace() {
                headers.entry(trace::TRACEPARENT).or_insert(parent);
                if let Some(state) = state {
                    headers.entry(trace::TRACESTATE).or_insert(state);
                }
            }
            None
        };
        let outgoing = Outgoing {
            shared: &self.client.shared,
            path: self.uri(""),
            method: self.method,
            template: self.template,
            headers,
            body: self.body,
            accepts_redirects: self.accepts_redirects,
        };
        (failed, outgoing, span)
    }
}

/// `call` in `span`, if there is one.
fn instrumented<F: std::future::Future>(
    span: Option<trace::Traced>,
    call: F,
) -> futures_util::future::Either<tracing::instrument::Instrumented<tracing::instrument::Instrumented<F>>, F>
{
    match span {
        Some(span) => futures_util::future::Either::Left(span.instrument(call)),
        None => futures_util::future::Either::Right(call),
    }
}

impl Outgoing<'_> {
    /// The call's attempts; `Ok(None)` when `decode` took the answer.
    async fn send(&self, mut decode: Decode<'_>) -> Result<Option<http::Response<Body>>, Error> {
        let shared = self.shared;
        let provider = &*shared.provider;
        if let Some(ready) = provider.ready() {
            ready.await;
        }
        let started = now();
        let (call_deadline, call_limit) = call_deadline(started, shared.total_timeout);
        // One timer for every attempt, armed only if an answer has to be waited for.
        let mut timer = Deadline::new(call_deadline);
        let idempotent = matches!(
            self.method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        );
        shared.budget.deposit();
        let mut tried: Vec<String> = Vec::new();
        let mut last = None;
        // One clock read before each attempt and one after: they time the attempt, place its
        // deadline and date what the balancer learns.
        let mut sent = started;
        let mut done = started;
        let (ended, outcome) = loop {
            let alive = provider.instances();
            let Some(chosen) = shared.instances.choose(provider, &alive, &tried, shared.instances.at(sent))
            else {
                // Every instance was tried: the last failure says why.
                let (err, outcome) = last.take().unwrap_or_else(|| {
                    let err = Error::unavailable(format!(
                        "no instance of service {:?} is available",
                        provider.name()
                    ));
                    (err, Outcome::NoInstance)
                });
                break (Ended::Failed(err), outcome);
            };
            let base_url = alive[chosen.index].base_url.as_str();
            if trace::enabled() {
                record_server(chosen.base(base_url));
            }
            let req = match self.request(chosen.base(base_url), base_url) {
                Ok(req) => req,
                Err(e) => break (Ended::Failed(e), Outcome::Transport),
            };
            let per_try = sent + shared.timeout;
            // The last attempt ends with the call's own deadline, when that comes first.
            let cut = call_deadline < per_try;
            timer.reset(per_try.min(call_deadline));
            let exchange = Exchange::new(shared.transport.call(req), shared.max_body, decode.is_none());
            let mut attempt = match timer.limit(exchange).await {
                Ok(Ok(Exchanged::Whole(parts, bytes))) => Attempt::Answered(parts, bytes),
                Ok(Ok(Exchanged::Streaming(resp))) => Attempt::Streaming(resp),
                Ok(Err(Broken::Transport(e))) => Attempt::Failed(e),
                Ok(Err(Broken::Body(e))) => Attempt::BadBody(format!("broke off: {e}")),
                Ok(Err(Broken::TooLarge)) => Attempt::BadBody(format!(
                    "is larger than GDD_CLIENT_MAX_BODY_SIZE ({} bytes)",
                    shared.max_body
                )),
                Err(_) => Attempt::TimedOut,
            };
            done = now();
            if let (Attempt::Answered(parts, bytes), Some(decode)) = (&attempt, decode.as_mut()) {
                if self.answered(parts.status) {
                    if let Err(why) = decode(parts, bytes) {
                        attempt = Attempt::BadBody(why);
                    }
                }
            }
            let at = shared.instances.at(done);
            let (retry, err, outcome) = match attempt {
                Attempt::Answered(parts, bytes) => {
                    let status = parts.status;
                    let failed = status.is_server_error();
                    shared.instances.finish(chosen, base_url, true, failed, at, &shared.metrics);
                    if self.answered(status) {
                        break (Ended::Reply(None), Outcome::Success);
                    }
                    break (
                        Ended::Refused(status, bytes),
                        if failed { Outcome::ServerError } else { Outcome::ClientError },
                    );
                }
                Attempt::Streaming(resp) => {
                    shared.instances.finish(chosen, base_url, true, false, at, &shared.metrics);
                    break (Ended::Reply(Some(resp)), Outcome::Success);
                }
                Attempt::TimedOut => {
                    shared.instances.finish(chosen, base_url, false, true, at, &shared.metrics);
                    tried.push(base_url.to_owned());
                    tracing::debug!(instance = %base_url, route = self.template, "call timed out");
                    let within = if cut {
                        call_limit.to_string()
                    } else {
                        format!("{:?} (GDD_CLIENT_TIMEOUT)", shared.timeout)
                    };
                    let err = Error::new(
                        StatusCode::GATEWAY_TIMEOUT,
                        format!("{} did not answer within {within}", self.what()),
                    );
                    (idempotent && !cut, err, Outcome::Timeout)
                }
                Attempt::Failed(e) => {
                    shared.instances.finish(chosen, base_url, false, true, at, &shared.metrics);
                    tried.push(base_url.to_owned());
                    let retry = idempotent || is_connect(&e);
                    // The instance's address is for the log and the span, not for the caller.
                    tracing::debug!(instance = %base_url, route = self.template, error = %e, retry, "call failed");
                    let err = Error::unavailable(format!("cannot call {}: {}", self.what(), cause(&e)));
                    (retry, err, Outcome::Transport)
                }
                Attempt::BadBody(why) => {
                    shared.instances.finish(chosen, base_url, true, true, at, &shared.metrics);
                    tried.push(base_url.to_owned());
                    tracing::debug!(instance = %base_url, route = self.template, why, "unusable response");
                    let err =
                        Error::new(StatusCode::BAD_GATEWAY, format!("the response of {} {why}", self.what()));
                    (idempotent, err, Outcome::BadResponse)
                }
            };
            if !retry
                || done >= call_deadline
                || tried.len() > shared.retries as usize
                || !shared.budget.withdraw()
            {
                break (Ended::Failed(err), outcome);
            }
            last = Some((err, outcome));
            shared.metrics.retry(self.template);
            sent = done;
        };
        let result = match ended {
            Ended::Reply(resp) => Ok(resp),
            Ended::Refused(status, bytes) => Err(Error::from_body(status, &bytes)),
            Ended::Failed(err) => Err(err),
        };
        shared.metrics.call(self.template, outcome, done.saturating_duration_since(started));
        if trace::enabled() {
            record_call(&tried, &result);
        }
        result
    }

    /// Whether `status` is an answer to read as the value (a 2xx, or a 3xx the method answers).
    fn answered(&self, status: StatusCode) -> bool {
        status.is_success() || (self.accepts_redirects && status.is_redirection())
    }

    /// The call as errors name it to the caller: the service and the route, never the
    /// instance's address (that is internal to this service's side).
    fn what(&self) -> String {
        format!("{} {} of service {:?}", self.method, self.template, self.shared.provider.name())
    }

    /// The request of one attempt to the instance at `base_url` (parsed as `base`, if it
    /// could be).
    fn request(&self, base: Option<&balance::Base>, base_url: &str) -> Result<http::Request<Body>, Error> {
        let uri = match base {
            Some(base) => {
                let mut path = String::with_capacity(base.root.len() + self.path.len());
                path.push_str(&base.root);
                path.push_str(&self.path);
                http::uri::PathAndQuery::from_maybe_shared(Bytes::from(path))
                    .map_err(http::Error::from)
                    .and_then(|path| {
                        let mut parts = http::uri::Parts::default();
                        parts.scheme = Some(base.scheme.clone());
                        parts.authority = Some(base.authority.clone());
                        parts.path_and_query = Some(path);
                        http::Uri::from_parts(parts).map_err(http::Error::from)
                    })
            }
            None => http::Uri::try_from(format!("{base_url}{}", self.path)).map_err(http::Error::from),
        };
        let uri = uri.map_err(|e| {
            tracing::debug!(instance = %base_url, route = self.template, error = %e, "cannot build the request");
            Error::bad_request(format!("cannot build the request {}: {e}", self.what()))
        })?;
        // Set in place rather than through `http::request::Builder`, which moves the request's
        // parts at each step.
        let mut req = match &self.body {
            Some((_, bytes)) => http::Request::new(Body::full(bytes.clone())),
            None => http::Request::new(Body::empty()),
        };
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = uri;
        req.headers_mut().clone_from(&self.headers);
        if let Some((content_type, _)) = &self.body {
            req.headers_mut().insert(CONTENT_TYPE, content_type.clone());
        }
        Ok(req)
    }
}

/// The margin a handler keeps to pass a failed call's error on before its own
/// `GDD_WRITE_TIMEOUT` answers 503 in its place.
const HANDOFF: Duration = Duration::from_millis(10);

/// Where a call started at `started` must end, and what sets that: its own
/// `GDD_CLIENT_TOTAL_TIMEOUT`, or the time left of the request whose handler makes it.
fn call_deadline(started: Instant, total: Duration) -> (Instant, CallLimit) {
    let own = started + total;
    match crate::request_id::deadline().map(|d| d.checked_sub(HANDOFF).unwrap_or(d)) {
        Some(request) if request < own => (request, CallLimit::Request),
        _ => (own, CallLimit::Total(total)),
    }
}

/// What limits a whole call (see [`call_deadline`]).
#[derive(Clone, Copy)]
enum CallLimit {
    Total(Duration),
    Request,
}

impl std::fmt::Display for CallLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Total(total) => write!(f, "{total:?} (GDD_CLIENT_TOTAL_TIMEOUT)"),
            Self::Request => f.write_str("the time left of the request being handled (GDD_WRITE_TIMEOUT)"),
        }
    }
}

/// The instance of an attempt as OpenTelemetry's `server.address` (a host) and `server.port`.
fn record_server(base: Option<&balance::Base>) {
    let Some(base) = base else { return };
    let span = tracing::Span::current();
    span.record("server.address", base.authority.host());
    let default = if base.scheme == http::uri::Scheme::HTTPS { 443 } else { 80 };
    span.record("server.port", base.authority.port_u16().unwrap_or(default));
}

/// What the call's span shows of its attempts: the instances that failed before the last
/// one, the number of resends, the status, and an error mark for a failed call.
fn record_call(tried: &[String], result: &Result<Option<http::Response<Body>>, Error>) {
    let span = tracing::Span::current();
    if !tried.is_empty() {
        span.record("http.request.resend_count", tried.len() as u64);
        span.record("doudou.instances_tried", tried.join(" "));
    }
    let status = match result {
        Ok(Some(resp)) => resp.status(),
        Ok(None) => StatusCode::OK,
        Err(e) => e.status(),
    };
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() || result.is_err() {
        span.record("otel.status_code", "ERROR");
    }
}

/// What the caller is told of a connection's failure: the innermost cause (hyper's outer
/// errors name the connection, "client error (Connect)"), without addresses.
fn cause(error: &BoxError) -> String {
    let mut source: &(dyn std::error::Error + 'static) = error.as_ref();
    while let Some(inner) = source.source() {
        source = inner;
    }
    source.to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::client::Client;
    use crate::sd::Member;
    use crate::sd::ServiceProvider;

    /// Two instances of a service, for a retry to have somewhere to go.
    struct Two(Arc<Vec<Member>>);

    impl ServiceProvider for Two {
        fn name(&self) -> &str {
            "slow"
        }
        fn instances(&self) -> Arc<Vec<Member>> {
            Arc::clone(&self.0)
        }
    }

    /// A client of `instances` whose transport never answers.
    fn unanswered(instances: usize) -> Client {
        let members = (0..instances)
            .map(|i| Member::instance("slow", &format!("s{i}"), format!("http://10.0.0.{i}:1"), 1));
        let never = tower::service_fn(|_: http::Request<Body>| {
            std::future::pending::<Result<http::Response<Body>, BoxError>>()
        });
        Client::with_provider(Two(Arc::new(members.collect()))).transport(never)
    }

    async fn get(client: &Client) -> Error {
        client.call(Method::GET, "/x").answer(|_| Ok(()), false, false).await.expect_err("no answer")
    }

    /// Calls `client` and asserts it fails after `secs` (within 100 ms) saying `says`.
    async fn fails_after(client: &Client, secs: u64, says: &str) -> Error {
        let started = tokio::time::Instant::now();
        let err = get(client).await;
        assert!(err.message().contains(says), "{}", err.message());
        let took = started.elapsed();
        let limit = Duration::from_secs(secs);
        assert!(took >= limit && took < limit + Duration::from_millis(100), "{took:?}");
        err
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_ends_at_its_timeout_and_a_call_at_its_total() {
        let client = unanswered(1).timeout(Duration::from_secs(5));
        let err = fails_after(&client, 5, "5s (GDD_CLIENT_TIMEOUT)").await;
        assert_eq!(err.status(), StatusCode::GATEWAY_TIMEOUT);

        // Two instances, 5 s a try, 8 s in all: the retry is cut at 8 s.
        let client = unanswered(2).timeout(Duration::from_secs(5)).total_timeout(Duration::from_secs(8));
        fails_after(&client, 8, "8s (GDD_CLIENT_TOTAL_TIMEOUT)").await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_takes_the_settings_of_the_config_it_is_given() {
        let mut config = crate::config::Config::defaults().client;
        config.timeout = Duration::from_secs(3);
        config.total_timeout = Duration::from_secs(4);
        fails_after(&unanswered(2).with_config(&config), 4, "4s (GDD_CLIENT_TOTAL_TIMEOUT)").await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_inside_a_handler_ends_with_the_request() {
        let client = unanswered(2).timeout(Duration::from_secs(5));
        let request_ends = now() + Duration::from_secs(2);
        let current = crate::request_id::Current::new(None, request_ends, None);
        let started = tokio::time::Instant::now();
        let err = crate::request_id::scope(current, get(&client)).await;
        assert!(err.message().contains("the time left of the request being handled"), "{}", err.message());
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(1990) && took < Duration::from_millis(2100), "{took:?}");
    }
}
