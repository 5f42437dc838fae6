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
mod checked;
mod dates;
mod endpoint;
mod events;
mod head;
mod headers;
mod responses;
mod scalar;

use std::marker::PhantomData;

pub use crate::validate::Model;
pub use answer::Answer;
pub use body::{Extract, FromRequest, JsonBody};
pub use checked::{checked, Checked};
pub use endpoint::{call, returns, Endpoint, Handler, Method, Operations};
pub use events::{Event, EventStream, LastEventId};
pub use head::{Bearer, FromHead, Head, HeadDoc, SecurityScheme};
pub use responses::{
    Created, Html, MediaType, OctetStream, PlainText, Raw, Redirect, SetCookie, Status, Text, WithHeaders,
};
use scalar::Place;
pub use scalar::{FromParam, Scalar, Values};

use crate::client::Call;
use crate::error::{Error, ServiceError};
use crate::openapi::Operation;
use crate::request::Request;
use crate::validate::Report;

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
    /// Whether it has rules to check: a constant, so that a method without any does not even
    /// start a report.
    const CHECKED: bool = false;
    /// Checks its rules (a model's, or the parameter's own); nothing by default.
    fn check(&self, _value: &Self::Value, _report: &mut Report) {}
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

/// What the parameters of a method take of the body, as a constant: whether it is JSON, which
/// leaves the scalars in the query string (a request has one body).
#[doc(hidden)]
pub trait Slot {
    /// Whether the body is a JSON value.
    const JSON: bool;
}
impl Slot for NoBody {
    const JSON: bool = false;
}
impl Slot for OneJson {
    const JSON: bool = true;
}
impl Slot for Files {
    const JSON: bool = false;
}

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
    type Out: Slot;
}
impl<Rest: Slot> Then<Rest> for NoBody {
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
    type Slot: Slot;
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
    /// Whether any parameter has rules.
    const CHECKED: bool;
    /// Whether a parameter is the JSON body (the others are then sent in the query string,
    /// not in a form body).
    const JSON_BODY: bool;
    /// Checks every parameter's rules, collecting every failure.
    fn check_all(&self, values: &Self::Values, report: &mut Report);
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
            const CHECKED: bool = false $(|| $b::CHECKED)*;
            const JSON_BODY: bool = <<slots!($($b),*) as Slots>::Slot as Slot>::JSON;
            fn bind_all(&self, req: &mut Request) -> Result<Self::Values, Error> {
                let ($($b,)*) = self;
                Ok(($($b.bind(req)?,)*))
            }
            fn check_all(&self, values: &Self::Values, report: &mut Report) {
                let ($($b,)*) = self;
                let ($($v,)*) = values;
                $($b.check($v, report);)*
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

/// What a service method returns: `Result<T, E>`, `E` being `doudou::Error` or a
/// `#[doudou::error]` enum.
#[diagnostic::on_unimplemented(
    message = "a service method returns `Result<T, doudou::Error>` (or a #[doudou::error] enum as the error), not `{Self}`",
    label = "not a `Result` of an answer and a service error"
)]
pub trait ServiceResult: Send + 'static {
    /// `T`.
    type Ok: Answer;
    /// `E`.
    type Err: ServiceError;
    /// As a plain result.
    fn into_result(self) -> Result<Self::Ok, Self::Err>;
    /// From a plain result.
    fn from_result(result: Result<Self::Ok, Self::Err>) -> Self;
}

impl<T: Answer, E: ServiceError> ServiceResult for Result<T, E> {
    type Ok = T;
    type Err = E;
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
        Scalar::new(name, Place::Path)
    }

    /// A header parameter (`#[doudou(header)]`): a scalar, `Option` or `Vec` of one.
    pub fn header(&self, name: &'static str) -> Scalar<T>
    where
        T: Values,
    {
        Scalar::new(name, Place::Header)
    }

    /// A cookie parameter (`#[doudou(cookie)]`): a scalar or `Option` of one.
    pub fn cookie(&self, name: &'static str) -> Scalar<T>
    where
        T: Values,
    {
        Scalar::new(name, Place::Cookie)
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
        Scalar::new(name, Place::Query)
    }
    fn param_without_body(&self, name: &'static str) -> Scalar<V> {
        Scalar::new(name, Place::Query)
    }
}
