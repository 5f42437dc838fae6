//! Binding: how each parameter of a service method is read from a request, described in the
//! OpenAPI document and sent by the generated client, and how its result is answered.
//!
//! The kind of a parameter comes from the traits its type implements, not from its spelling:
//! a [`FromRequest`](body::FromRequest) type (headers, peer address, files) reads the request
//! itself; a [`FromParam`] type (and `Option`/`Vec` of one) is a path or query parameter; a
//! [`Model`] is the JSON body. `#[doudou::service]` asks [`Kind`] for each parameter's
//! [`Binder`] and the compiler picks the first of those that applies (the autoref trick: each
//! candidate takes one reference less), so one call per parameter is all the macro writes.

mod answer;
mod body;
mod scalar;

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use http::Response;

pub use answer::Answer;
pub use body::{Extract, FromRequest, JsonBody, Model};
pub use scalar::{FromParam, Scalar, Values};

use crate::body::Body;
use crate::client::{Call, Client};
use crate::openapi::{ApiBuilder, Operation};
use crate::request::Request;
use crate::service::{BoxFuture, Route};
use crate::{reply, Error};

/// Binds one parameter, describes it, and sends it from the client.
#[doc(hidden)]
pub trait Binder: Send + Sync + 'static {
    /// The parameter's type.
    type Value: Send + 'static;
    /// What it takes of the body: [`NoBody`], [`OneJson`] or [`Files`].
    type Slot;
    /// The parameter's name.
    fn name(&self) -> &'static str;
    /// Reads it from a request whose body was loaded.
    fn bind(&self, req: &mut Request) -> Result<Self::Value, Error>;
    /// Adds it to the operation's document.
    fn describe(&self, op: &mut Operation<'_>);
    /// Puts it in a call.
    fn send(&self, value: Self::Value, call: &mut Call<'_>);
}

/// Takes nothing of the body (or only values of a form).
#[doc(hidden)]
pub struct NoBody;
/// Is the JSON body.
#[doc(hidden)]
pub struct OneJson;
/// Is a file of a multipart body.
#[doc(hidden)]
pub struct Files;

/// How the body is shared by a parameter (`Self`) and the ones after it (`Rest`): at most one
/// JSON body, and none beside files. Checked by the compiler when the binders are built.
#[diagnostic::on_unimplemented(
    message = "a service method takes at most one JSON body, and none beside a file upload",
    label = "these parameters would share one request body",
    note = "put the body's fields in one #[doudou::model], or make the others scalar parameters"
)]
#[doc(hidden)]
pub trait Then<Rest> {
    /// What the parameters take together.
    type Out;
}
impl<Rest> Then<Rest> for NoBody {
    type Out = Rest;
}
impl Then<NoBody> for OneJson {
    type Out = OneJson;
}
impl Then<NoBody> for Files {
    type Out = Files;
}
impl Then<Files> for Files {
    type Out = Files;
}

/// What the parameters of a method take of the body together, the list `(first, (second, ()))`
/// of their slots folded by [`Then`].
#[doc(hidden)]
pub trait Slots {
    /// The slot of them all.
    type Slot;
}
impl Slots for () {
    type Slot = NoBody;
}
impl<S: Then<Rest::Slot>, Rest: Slots> Slots for (S, Rest) {
    type Slot = S::Out;
}

/// The binders of all parameters of a method, as a tuple.
#[doc(hidden)]
pub trait Binders: Send + Sync + 'static {
    /// The parameters' values, as a tuple.
    type Values: Send + 'static;
    /// Binds every parameter, in order; the first failure is the answer.
    fn bind_all(&self, req: &mut Request) -> Result<Self::Values, Error>;
    /// Describes every parameter.
    fn describe_all(&self, op: &mut Operation<'_>);
    /// Sends every parameter.
    fn send_all(&self, values: Self::Values, call: &mut Call<'_>);
    /// Whether a parameter is named `name`.
    fn has(&self, name: &str) -> bool;
}

/// `(A::Slot, (B::Slot, ()))` of binders `A, B`.
macro_rules! slots {
    () => { () };
    ($a:ident $(, $rest:ident)*) => { ($a::Slot, slots!($($rest),*)) };
}

macro_rules! binders {
    ($(($b:ident, $v:ident)),*) => {
        #[allow(non_snake_case, unused_variables)]
        impl<$($b: Binder),*> Binders for ($($b,)*)
        where
            slots!($($b),*): Slots,
        {
            type Values = ($($b::Value,)*);
            fn bind_all(&self, req: &mut Request) -> Result<Self::Values, Error> {
                let ($($b,)*) = self;
                Ok(($($b.bind(req)?,)*))
            }
            fn describe_all(&self, op: &mut Operation<'_>) {
                let ($($b,)*) = self;
                $($b.describe(op);)*
            }
            fn send_all(&self, values: Self::Values, call: &mut Call<'_>) {
                let ($($b,)*) = self;
                let ($($v,)*) = values;
                $($b.send($v, call);)*
            }
            fn has(&self, name: &str) -> bool {
                let ($($b,)*) = self;
                false $(|| $b.name() == name)*
            }
        }
    };
}
binders!();
binders!((A, a));
binders!((A, a), (B, b));
binders!((A, a), (B, b), (C, c));
binders!((A, a), (B, b), (C, c), (D, d));
binders!((A, a), (B, b), (C, c), (D, d), (E, e));
binders!((A, a), (B, b), (C, c), (D, d), (E, e), (F, f));
binders!((A, a), (B, b), (C, c), (D, d), (E, e), (F, f), (G, g));
binders!((A, a), (B, b), (C, c), (D, d), (E, e), (F, f), (G, g), (H, h));
binders!((A, a), (B, b), (C, c), (D, d), (E, e), (F, f), (G, g), (H, h), (I, i));
binders!((A, a), (B, b), (C, c), (D, d), (E, e), (F, f), (G, g), (H, h), (I, i), (J, j));
binders!((A, a), (B, b), (C, c), (D, d), (E, e), (F, f), (G, g), (H, h), (I, i), (J, j), (K, k));
binders!((A, a), (B, b), (C, c), (D, d), (E, e), (F, f), (G, g), (H, h), (I, i), (J, j), (K, k), (L, l));
binders!(
    (A, a),
    (B, b),
    (C, c),
    (D, d),
    (E, e),
    (F, f),
    (G, g),
    (H, h),
    (I, i),
    (J, j),
    (K, k),
    (L, l),
    (M, m)
);
binders!(
    (A, a),
    (B, b),
    (C, c),
    (D, d),
    (E, e),
    (F, f),
    (G, g),
    (H, h),
    (I, i),
    (J, j),
    (K, k),
    (L, l),
    (M, m),
    (N, n)
);
binders!(
    (A, a),
    (B, b),
    (C, c),
    (D, d),
    (E, e),
    (F, f),
    (G, g),
    (H, h),
    (I, i),
    (J, j),
    (K, k),
    (L, l),
    (M, m),
    (N, n),
    (O, o)
);
binders!(
    (A, a),
    (B, b),
    (C, c),
    (D, d),
    (E, e),
    (F, f),
    (G, g),
    (H, h),
    (I, i),
    (J, j),
    (K, k),
    (L, l),
    (M, m),
    (N, n),
    (O, o),
    (P, p)
);

/// The most parameters a service method takes.
pub const MAX_PARAMS: usize = 16;

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

/// What a service method returns: `Result<T, doudou::Error>`.
#[diagnostic::on_unimplemented(
    message = "a service method returns `Result<T, doudou::Error>`, not `{Self}`",
    label = "the error type must be `doudou::Error`"
)]
pub trait ServiceResult: Send + 'static {
    /// `T`.
    type Ok: Answer;
    /// As a plain result.
    fn into_result(self) -> Result<Self::Ok, Error>;
    /// From a plain result.
    fn from_result(result: Result<Self::Ok, Error>) -> Self;
}

impl<T: Answer> ServiceResult for Result<T, Error> {
    type Ok = T;
    fn into_result(self) -> Self {
        self
    }
    fn from_result(result: Self) -> Self {
        result
    }
}

/// Asks for the binder of a parameter of type `T` (see the module documentation).
#[doc(hidden)]
pub struct Kind<T>(PhantomData<fn() -> T>);

impl<T> Kind<T> {
    /// The question, for `(&&&Kind::<T>::NEW).param("name")`.
    pub const NEW: Self = Self(PhantomData);

    /// The last candidate: a JSON body.
    pub fn param(&self, name: &'static str) -> JsonBody<T>
    where
        T: Model,
    {
        JsonBody::new(name)
    }

    /// The last candidate on a verb without a body: refused.
    pub fn param_without_body(&self, name: &'static str) -> JsonBody<T>
    where
        T: NoBodyOnThisVerb,
    {
        JsonBody::new(name)
    }

    /// A path parameter: a scalar.
    pub fn path(&self, name: &'static str) -> Scalar<T>
    where
        T: FromParam,
    {
        Scalar::new(name, true)
    }
}

/// Never implemented: the message of a body parameter on GET, HEAD or DELETE.
#[diagnostic::on_unimplemented(
    message = "`{Self}` would be the JSON body, but GET, HEAD and DELETE requests carry none",
    label = "not a scalar parameter",
    note = "make the method a POST, PUT or PATCH (a route attribute, or the verb its name starts with), or take the fields as separate scalar parameters"
)]
#[doc(hidden)]
pub trait NoBodyOnThisVerb: Model {}

/// The first candidate: a parameter that reads the request itself.
#[doc(hidden)]
pub trait ViaRequest {
    /// Its binder.
    type Binder;
    /// The binder of the parameter `name`.
    fn param(&self, name: &'static str) -> Self::Binder;
    /// The same on a verb without a body.
    fn param_without_body(&self, name: &'static str) -> Self::Binder;
}

impl<T: FromRequest> ViaRequest for &&Kind<T> {
    type Binder = Extract<T>;
    fn param(&self, name: &'static str) -> Extract<T> {
        Extract::new(name)
    }
    fn param_without_body(&self, name: &'static str) -> Extract<T> {
        Extract::new(name)
    }
}

/// The second candidate: a scalar (or `Option`/`Vec` of one) from the query or a form.
#[doc(hidden)]
pub trait ViaScalar {
    /// Its binder.
    type Binder;
    /// The binder of the parameter `name`.
    fn param(&self, name: &'static str) -> Self::Binder;
    /// The same on a verb without a body.
    fn param_without_body(&self, name: &'static str) -> Self::Binder;
}

impl<V: Values> ViaScalar for &Kind<V> {
    type Binder = Scalar<V>;
    fn param(&self, name: &'static str) -> Scalar<V> {
        Scalar::new(name, false)
    }
    fn param_without_body(&self, name: &'static str) -> Scalar<V> {
        Scalar::new(name, false)
    }
}

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
    {
        let Self { mut request, service } = self;
        let (_, binders) = endpoint.parts();
        Box::pin(async move {
            if let Some(loading) = request.load_body() {
                if let Err(e) = loading.await {
                    return reply::error(&e);
                }
            }
            let values = match binders.bind_all(&mut request) {
                Ok(values) => values,
                Err(e) => return reply::error(&e),
            };
            if let Some(e) = request.unexpected_field(|name| binders.has(name)) {
                return reply::error(&e);
            }
            drop(request);
            <E::Output as ServiceResult>::Ok::reply(method.call(&service, values).await.into_result())
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
    binders.send_all(values, &mut call);
    async move {
        E::Output::from_result(match call.send().await {
            Ok(reply) => <E::Output as ServiceResult>::Ok::receive(reply).await,
            Err(e) => Err(e),
        })
    }
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
        binders.describe_all(&mut op);
        <E::Output as ServiceResult>::Ok::describe(&mut op);
    }
}
