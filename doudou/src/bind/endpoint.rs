//! A method's endpoint (route, binders, result type) and the three things done with it: the
//! server's [`Handler`], the client's [`call`], the document's [`Operations`].

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use http::Response;

use super::{Answer, Binders, ServiceResult};
use crate::body::Body;
use crate::client::Client;
use crate::error::{Error, ServiceError};
use crate::openapi::ApiBuilder;
use crate::reply;
use crate::request::Request;
use crate::validate::Report;
use crate::vocab::{BoxFuture, Route};

/// A method's route and binders, and its result type: what `#[doudou::service]` asks the
/// compiler for once per method, for the handler, the client and the document (so that a type
/// that cannot be bound or answered is reported once).
#[doc(hidden)]
pub trait Endpoint<Values>: Send + Sync + 'static {
    /// The binders.
    type Binders: Binders<Values = Values>;
    /// What the method returns.
    type Output: ServiceResult;
    /// The route and the binders.
    fn parts(self) -> (&'static Route, Self::Binders);
}

/// A route, binders, and the result type as a marker.
impl<B, O> Endpoint<B::Values> for (&'static Route, B, PhantomData<fn() -> O>)
where
    B: Binders,
    O: ServiceResult,
{
    type Binders = B;
    type Output = O;
    fn parts(self) -> (&'static Route, B) {
        (self.0, self.1)
    }
}

/// The third element of an endpoint: its result type.
#[doc(hidden)]
pub const fn returns<O>() -> PhantomData<fn() -> O> {
    PhantomData
}

/// A trait method, `<Impl as Trait>::method`, called with the values of its parameters.
#[doc(hidden)]
pub trait Method<'a, T, Values>: Send + Sync + 'static {
    /// What the method returns.
    type Output;
    /// Its future.
    type Future: Future<Output = Self::Output> + Send + 'a;
    /// Calls the method.
    fn call(self, service: &'a T, values: Values) -> Self::Future;
}

macro_rules! methods {
    ($($v:ident),*) => {
        #[allow(non_snake_case)]
        impl<'a, T: 'a, F, Fut, $($v),*> Method<'a, T, ($($v,)*)> for F
        where
            F: FnOnce(&'a T, $($v),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'a,
        {
            type Output = Fut::Output;
            type Future = Fut;
            fn call(self, service: &'a T, ($($v,)*): ($($v,)*)) -> Fut {
                self(service, $($v),*)
            }
        }
    };
}
methods!();
methods!(A);
methods!(A, B);
methods!(A, B, C);
methods!(A, B, C, D);
methods!(A, B, C, D, E);
methods!(A, B, C, D, E, F1);
methods!(A, B, C, D, E, F1, G);
methods!(A, B, C, D, E, F1, G, H);
methods!(A, B, C, D, E, F1, G, H, I);
methods!(A, B, C, D, E, F1, G, H, I, J);
methods!(A, B, C, D, E, F1, G, H, I, J, K);
methods!(A, B, C, D, E, F1, G, H, I, J, K, L);
methods!(A, B, C, D, E, F1, G, H, I, J, K, L, M);
methods!(A, B, C, D, E, F1, G, H, I, J, K, L, M, N);
methods!(A, B, C, D, E, F1, G, H, I, J, K, L, M, N, O);
methods!(A, B, C, D, E, F1, G, H, I, J, K, L, M, N, O, P);

/// A request to a service implemented by `T`, on its way to the method it was routed to.
#[doc(hidden)]
pub struct Handler<T> {
    request: Request,
    service: Arc<T>,
}

impl<T: Send + Sync + 'static> Handler<T> {
    /// The request `request` to `service`.
    pub fn new(request: Request, service: Arc<T>) -> Self {
        Self { request, service }
    }

    /// Loads the body, binds every parameter, calls the method, answers.
    pub fn handle<V, E, M>(self, endpoint: E, method: M) -> BoxFuture<Response<Body>>
    where
        E: Endpoint<V>,
        M: for<'a> Method<'a, T, V, Output = E::Output>,
        V: Send,
    {
        let Self { mut request, service } = self;
        let (route, binders) = endpoint.parts();
        // As Go's ParseForm: only these verbs carry a body to read; on the others it is left
        // unread, whatever it holds.
        let reads_body = route.verb.has_body();
        Box::pin(async move {
            if reads_body && request.has_body() {
                if let Err(e) = request.load_body().await {
                    return reply::error(&e);
                }
            }
            let values = match binders.bind_all(&mut request) {
                Ok(values) => values,
                Err(e) => return reply::error(&e),
            };
            if <E::Binders as Binders>::CHECKED {
                let mut report = Report::new();
                binders.check_all(&values, &mut report);
                if let Some(e) = report.into_failures().map(Error::invalid_fields) {
                    return reply::error(&e);
                }
            }
            if let Some(e) = request.unexpected_field(|name| binders.has(name)) {
                return reply::error(&e);
            }
            let current = crate::request_id::Current::new(
                request.current_id(),
                request.deadline(),
                request.passed_trace(),
            );
            drop(request);
            let answer = crate::request_id::scope(current, method.call(&service, values)).await;
            <E::Output as ServiceResult>::Ok::reply(answer.into_result().map_err(ServiceError::into_error))
        })
    }
}

/// A generated client method: sends the parameters, reads the answer.
#[doc(hidden)]
pub fn call<V, E: Endpoint<V>>(
    client: &Client,
    endpoint: E,
    values: V,
) -> impl Future<Output = E::Output> + Send + '_ {
    let (route, binders) = endpoint.parts();
    let mut call = client.call(route.verb.method(), route.path);
    if route.verb.has_body() && !<E::Binders as Binders>::JSON_BODY {
        call.scalars_in_body();
    }
    binders.send_all(values, &mut call);
    // A combinator rather than an async block, which would hold the call's future twice
    // (captured, and moved into the await).
    type Ok<E, V> = <<E as Endpoint<V>>::Output as ServiceResult>::Ok;
    let received = call.answer(Ok::<E, V>::read, Ok::<E, V>::STREAMED, Ok::<E, V>::REDIRECT);
    futures_util::FutureExt::map(received, |result| {
        E::Output::from_result(result.map_err(ServiceError::from_error))
    })
}

/// The operations of one service in the OpenAPI document, tagged with its name.
#[doc(hidden)]
pub struct Operations<'a> {
    api: &'a mut ApiBuilder,
    tag: &'static str,
}

impl<'a> Operations<'a> {
    /// Declares the tag `tag`, described by `doc`.
    pub fn new(api: &'a mut ApiBuilder, tag: &'static str, doc: &str) -> Self {
        api.tag(tag, doc);
        Self { api, tag }
    }

    /// Adds the operation of an endpoint, documented by `doc`.
    pub fn add<V, E: Endpoint<V>>(&mut self, doc: &str, endpoint: E) {
        let (route, binders) = endpoint.parts();
        let mut op = self.api.operation(route.verb, route.path, route.operation, doc, self.tag);
        if route.verb.has_body() && !<E::Binders as Binders>::JSON_BODY {
            op.scalars_in_body();
        }
        binders.describe_all(&mut op);
        let success = <E::Output as ServiceResult>::Ok::describe(&mut op);
        op.success(success);
        <E::Output as ServiceResult>::Err::describe(&mut op);
    }
}
