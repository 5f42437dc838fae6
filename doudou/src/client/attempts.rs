//! One call's attempts: the instance chosen for each, its timeout, the retry decision, and
//! the metrics of the whole call.

use std::time::Instant;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, Method, StatusCode};
use tower::retry::budget::Budget;

use super::metrics::Outcome;
use super::transport::is_connect;
use super::{balance, Call, Reply, Shared};
use crate::body::{Body, BoxError};
use crate::{trace, Error};

/// How one attempt ended.
enum Attempt {
    Answered(http::Response<Body>),
    TimedOut,
    Failed(BoxError),
}

/// How a call ended, before an error answer's body is read.
enum Ended {
    Reply(Reply),
    /// A non-2xx answer: its body says why.
    Refused(Reply),
    Failed(Error),
}

/// A call ready to go: what each attempt sends. Only this lives across the attempts' awaits
/// (the call under construction, its parameters and the request builder do not), which keeps
/// the future a generated method returns small: it is moved each time it is polled from a new
/// place, and every byte of it is copied then.
struct Outgoing<'a> {
    shared: &'a Shared,
    method: Method,
    template: &'static str,
    /// The path and query after an instance's base URL.
    path: String,
    headers: HeaderMap,
    body: Option<(HeaderValue, Bytes)>,
}

impl<'a> Call<'a> {
    /// Sends the call; a non-2xx answer becomes the server's error. See the module
    /// documentation for timeouts, retries and the choice of instance.
    pub(crate) fn send(mut self) -> impl std::future::Future<Output = Result<Reply, Error>> + Send + 'a {
        let failed = self.failed.take();
        self.encode_files();
        let mut headers = std::mem::take(&mut self.headers);
        if !headers.contains_key(crate::request_id::X_REQUEST_ID) {
            if let Some(id) = crate::request_id::current() {
                headers.insert(crate::request_id::X_REQUEST_ID, id);
            }
        }
        let span = if trace::enabled() {
            let span = trace::client_span(&self.method, self.template);
            trace::inject(&span, &mut headers);
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
        };
        // `outgoing` is only borrowed here: moving it into a local would store it twice.
        let call = async move {
            match failed {
                Some(e) => Err(e),
                None => outgoing.send().await,
            }
        };
        match span {
            Some(span) => futures_util::future::Either::Left(tracing::Instrument::instrument(call, span)),
            None => futures_util::future::Either::Right(call),
        }
    }
}

impl Outgoing<'_> {
    async fn send(&self) -> Result<Reply, Error> {
        let shared = self.shared;
        let provider = &*shared.provider;
        if let Some(ready) = provider.ready() {
            ready.await;
        }
        let started = Instant::now();
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
                tracing::Span::current().record("server.address", base_url);
            }
            let req = match self.request(chosen.base(base_url), base_url) {
                Ok(req) => req,
                Err(e) => break (Ended::Failed(e), Outcome::Transport),
            };
            let deadline = sent + shared.timeouts.timeout();
            let attempt = match shared.timeouts.limit(deadline, shared.transport.call(req)).await {
                Ok(Ok(resp)) => Attempt::Answered(resp),
                Ok(Err(e)) => Attempt::Failed(e),
                Err(_) => Attempt::TimedOut,
            };
            done = Instant::now();
            let at = shared.instances.at(done);
            let (retry, err, outcome) = match attempt {
                Attempt::Answered(resp) => {
                    let status = resp.status();
                    let failed = status.is_server_error();
                    shared.instances.finish(chosen, base_url, true, failed, at, &shared.metrics);
                    let reply = Reply { resp, deadline };
                    if status.is_success() {
                        break (Ended::Reply(reply), Outcome::Success);
                    }
                    break (
                        Ended::Refused(reply),
                        if failed { Outcome::ServerError } else { Outcome::ClientError },
                    );
                }
                Attempt::TimedOut => {
                    shared.instances.finish(chosen, base_url, false, true, at, &shared.metrics);
                    tried.push(base_url.to_owned());
                    let err = Error::new(
                        StatusCode::GATEWAY_TIMEOUT,
                        format!(
                            "{} {base_url}{} did not answer within {:?} (GDD_CLIENT_TIMEOUT)",
                            self.method,
                            self.path,
                            shared.timeouts.timeout()
                        ),
                    );
                    (idempotent, err, Outcome::Timeout)
                }
                Attempt::Failed(e) => {
                    shared.instances.finish(chosen, base_url, false, true, at, &shared.metrics);
                    tried.push(base_url.to_owned());
                    let retry = idempotent || is_connect(&e);
                    tracing::debug!(uri = %format_args!("{base_url}{}", self.path), error = %e, retry, "call failed");
                    let err = Error::unavailable(format!(
                        "cannot call {} {base_url}{}: {e}",
                        self.method, self.path
                    ));
                    (retry, err, Outcome::Transport)
                }
            };
            if !retry || tried.len() > shared.retries as usize || !shared.budget.withdraw() {
                break (Ended::Failed(err), outcome);
            }
            last = Some((err, outcome));
            shared.metrics.retry(self.template);
            sent = done;
        };
        let result = match ended {
            Ended::Reply(reply) => Ok(reply),
            Ended::Refused(reply) => {
                let status = reply.resp.status();
                // Boxed: the body's reading would take room in every call's future, and only a
                // refused call reads it here.
                Err(Error::from_body(status, &Box::pin(reply.bytes()).await.unwrap_or_default()))
            }
            Ended::Failed(err) => Err(err),
        };
        shared.metrics.call(self.template, outcome, done.saturating_duration_since(started));
        if trace::enabled() {
            record_call(&tried, &result);
        }
        result
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
            Error::bad_request(format!("cannot build a request to {base_url}{}: {e}", self.path))
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

/// What the call's span shows of its attempts: the instances that failed before the last
/// one, the number of resends, the status, and an error mark for a failed call.
fn record_call(tried: &[String], result: &Result<Reply, Error>) {
    let span = tracing::Span::current();
    if !tried.is_empty() {
        span.record("http.request.resend_count", tried.len() as u64);
        span.record("doudou.instances_tried", tried.join(" "));
    }
    let status = match result {
        Ok(reply) => reply.resp.status(),
        Err(e) => e.status(),
    };
    span.record("http.response.status_code", status.as_u16());
    if status.is_server_error() || result.is_err() {
        span.record("otel.status_code", "ERROR");
    }
}
